//! From a row's named values to a [`Feedback`]: which column holds which field (configured, or
//! detected from common headers in English and Chinese), and the parsing of dates, ratings and
//! numbers in the formats exports use. A value that cannot be parsed is a reason to reject the
//! row, with the value quoted.

use crate::config::{ColumnsConfig, DateOrder, DefaultsConfig};
use crate::document::{Feedback, Metadata, Origin};
use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime};

/// Header names recognised for each field, compared after lowercasing and trimming.
const TEXT_HEADERS: &[&str] = &[
    "text",
    "review",
    "review_text",
    "review text",
    "reviewtext",
    "comment",
    "comments",
    "content",
    "body",
    "feedback",
    "message",
    "complaint",
    "narrative",
    "consumer complaint narrative",
    "consumer_complaint_narrative",
    "description",
    "verbatim",
    "内容",
    "评论",
    "评价",
    "评论内容",
    "评价内容",
    "留言",
    "意见",
    "反馈",
    "反馈内容",
    "投诉内容",
    "投诉",
    "內容",
    "評論",
    "評價",
    "評論內容",
    "意見",
    "回饋",
];
const ID_HEADERS: &[&str] = &[
    "id",
    "review_id",
    "review id",
    "complaint id",
    "complaint_id",
    "ticket_id",
    "ticket id",
    "tweet_id",
    "document_id",
    "编号",
    "id号",
    "評論編號",
    "编码",
    "編號",
    "单号",
    "工单号",
];
const DATE_HEADERS: &[&str] = &[
    "date",
    "date received",
    "date_received",
    "created_at",
    "created",
    "timestamp",
    "time",
    "review_date",
    "tweet_created",
    "submitted",
    "datetime",
    "日期",
    "时间",
    "時間",
    "评论时间",
    "評論時間",
    "创建时间",
    "提交时间",
];
const RATING_HEADERS: &[&str] = &[
    "rating",
    "stars",
    "star",
    "score",
    "rate",
    "star_rating",
    "评分",
    "星级",
    "評分",
    "星級",
    "打分",
    "分数",
];
const SOURCE_HEADERS: &[&str] = &["source", "type", "kind", "来源", "類型", "类型", "來源"];
const CHANNEL_HEADERS: &[&str] = &["channel", "platform", "submitted via", "渠道", "平台"];
const LOCATION_HEADERS: &[&str] = &[
    "location",
    "store",
    "dealer",
    "branch",
    "shop",
    "city",
    "state",
    "门店",
    "門店",
    "经销商",
    "經銷商",
    "地点",
    "城市",
    "店铺",
];
const PRODUCT_HEADERS: &[&str] = &[
    "product",
    "item",
    "model",
    "sub-product",
    "airline",
    "产品",
    "產品",
    "商品",
    "车型",
];
const CUSTOMER_ID_HEADERS: &[&str] = &[
    "customer_id",
    "customer id",
    "customer",
    "user_id",
    "user",
    "客户编号",
    "用户",
    "客户",
];
const CUSTOMER_VALUE_HEADERS: &[&str] = &[
    "customer_value",
    "customer value",
    "clv",
    "lifetime_value",
    "value",
    "客户价值",
    "客戶價值",
];

/// Which header holds which field, for one file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ColumnMap {
    /// The text column (always present).
    pub text: String,
    /// The other columns, when present.
    pub id: Option<String>,
    /// Date column.
    pub date: Option<String>,
    /// Rating column.
    pub rating: Option<String>,
    /// Source column.
    pub source: Option<String>,
    /// Channel column.
    pub channel: Option<String>,
    /// Location column.
    pub location: Option<String>,
    /// Product column.
    pub product: Option<String>,
    /// Customer id column.
    pub customer_id: Option<String>,
    /// Customer value column.
    pub customer_value: Option<String>,
    /// Label column (configured only).
    pub label: Option<String>,
}

/// Why no column map could be made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MappingProblem {
    /// No header looks like the text and none was configured.
    NoTextColumn,
    /// A configured column is not among the headers.
    MissingColumn {
        /// The field (text, date, ...).
        field: &'static str,
        /// The configured header name.
        column: String,
    },
}

impl ColumnMap {
    /// Resolves the configured columns against a file's headers, detecting the rest.
    pub fn resolve(
        headers: &[String],
        configured: &ColumnsConfig,
    ) -> Result<ColumnMap, MappingProblem> {
        let pick = |field: &'static str,
                    configured: &Option<String>,
                    known: &[&str]|
         -> Result<Option<String>, MappingProblem> {
            match configured {
                Some(column) => headers
                    .iter()
                    .find(|header| header.trim() == column.trim())
                    .cloned()
                    .map(Some)
                    .ok_or_else(|| MappingProblem::MissingColumn {
                        field,
                        column: column.clone(),
                    }),
                None => Ok(detect(headers, known)),
            }
        };
        let text =
            pick("text", &configured.text, TEXT_HEADERS)?.ok_or(MappingProblem::NoTextColumn)?;
        Ok(ColumnMap {
            text,
            id: pick("id", &configured.id, ID_HEADERS)?,
            date: pick("date", &configured.date, DATE_HEADERS)?,
            rating: pick("rating", &configured.rating, RATING_HEADERS)?,
            source: pick("source", &configured.source, SOURCE_HEADERS)?,
            channel: pick("channel", &configured.channel, CHANNEL_HEADERS)?,
            location: pick("location", &configured.location, LOCATION_HEADERS)?,
            product: pick("product", &configured.product, PRODUCT_HEADERS)?,
            customer_id: pick("customer_id", &configured.customer_id, CUSTOMER_ID_HEADERS)?,
            customer_value: pick(
                "customer_value",
                &configured.customer_value,
                CUSTOMER_VALUE_HEADERS,
            )?,
            label: pick("label", &configured.label, &[])?,
        })
    }
}

/// The first header (in the order of `known`, so `text` beats `description`) that matches.
fn detect(headers: &[String], known: &[&str]) -> Option<String> {
    known.iter().find_map(|candidate| {
        headers
            .iter()
            .find(|header| header.trim().to_lowercase() == *candidate)
            .cloned()
    })
}

/// Parsing settings for field values.
#[derive(Debug, Clone)]
pub struct ValueSettings {
    /// Day/month order of ambiguous numeric dates.
    pub date_order: DateOrder,
    /// Longest accepted text, in bytes.
    pub max_text_bytes: usize,
    /// Values for rows without a source or channel column.
    pub defaults: DefaultsConfig,
}

/// Builds a feedback record from a row, given a lookup from column name to value.
/// Returns the reason when the row must be rejected.
pub fn feedback_from_row<'a>(
    lookup: impl Fn(&str) -> Option<&'a str>,
    columns: &ColumnMap,
    settings: &ValueSettings,
    origin: Origin,
) -> Result<Feedback, String> {
    let optional = |column: &Option<String>| {
        column
            .as_deref()
            .and_then(&lookup)
            .map(str::trim)
            .filter(|value| !value.is_empty())
    };
    let text = lookup(&columns.text).unwrap_or("");
    if text.trim().is_empty() {
        return Err(format!("empty text in column '{}'", columns.text));
    }
    if text.len() > settings.max_text_bytes {
        return Err(format!(
            "text is {} bytes, longer than input.max_text_bytes = {} (raise it in vocmine.toml to accept it)",
            text.len(),
            settings.max_text_bytes
        ));
    }
    let date = optional(&columns.date)
        .map(|value| parse_date(value, settings.date_order).ok_or_else(|| format!("cannot read date '{value}' (expected e.g. 2026-08-31, 08/31/2026, 2026年8月31日, Aug 31 2026)")))
        .transpose()?;
    let rating = optional(&columns.rating)
        .map(|value| {
            parse_rating(value).ok_or_else(|| {
                format!(
                    "cannot read rating '{value}' (expected a number such as 4, 4.5, 4/5 or ★★★★)"
                )
            })
        })
        .transpose()?;
    let customer_value = optional(&columns.customer_value)
        .map(|value| {
            parse_number(value)
                .ok_or_else(|| format!("cannot read customer value '{value}' (expected a number)"))
        })
        .transpose()?;
    let owned = |column: &Option<String>| optional(column).map(str::to_owned);
    Ok(Feedback {
        text: text.to_owned(),
        metadata: Metadata {
            id: owned(&columns.id),
            date,
            rating,
            source: owned(&columns.source).or_else(|| settings.defaults.source.clone()),
            channel: owned(&columns.channel).or_else(|| settings.defaults.channel.clone()),
            location: owned(&columns.location),
            product: owned(&columns.product),
            customer_id: owned(&columns.customer_id),
            customer_value,
            label: owned(&columns.label),
        },
        origin,
    })
}

/// Parses a date in the usual export formats; time and zone parts are dropped. Dates outside
/// the years 1900 to 2199 are taken for garbage.
pub fn parse_date(value: &str, order: DateOrder) -> Option<NaiveDate> {
    parse_any_date(value, order).filter(|date| (1900..2200).contains(&date.year()))
}

fn parse_any_date(value: &str, order: DateOrder) -> Option<NaiveDate> {
    let value = value.trim();
    if let Ok(datetime) = DateTime::parse_from_rfc3339(value) {
        return Some(datetime.date_naive());
    }
    for format in [
        "%a %b %d %H:%M:%S %z %Y",
        "%Y-%m-%d %H:%M:%S %z",
        "%a, %d %b %Y %H:%M:%S %z",
    ] {
        if let Ok(datetime) = DateTime::parse_from_str(value, format) {
            return Some(datetime.date_naive());
        }
    }
    for format in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%d %H:%M",
        "%Y/%m/%d %H:%M:%S",
        "%Y/%m/%d %H:%M",
    ] {
        if let Ok(datetime) = NaiveDateTime::parse_from_str(value, format) {
            return Some(datetime.date());
        }
    }
    let date_part = value.split([' ', 'T']).next().unwrap_or(value);
    for candidate in [value, date_part] {
        if let Some(date) = parse_date_only(candidate, order) {
            return Some(date);
        }
    }
    None
}

fn parse_date_only(value: &str, order: DateOrder) -> Option<NaiveDate> {
    const FORMATS: &[&str] = &[
        "%Y-%m-%d",
        "%Y/%m/%d",
        "%Y.%m.%d",
        "%Y年%m月%d日",
        "%Y年%m月%d号",
        "%Y%m%d",
        "%b %d, %Y",
        "%b %d %Y",
        "%d %b %Y",
        "%B %d, %Y",
        "%B %d %Y",
        "%d %B %Y",
        "%d-%b-%Y",
        "%d-%b-%y",
    ];
    if let Some(date) = FORMATS
        .iter()
        .find_map(|format| NaiveDate::parse_from_str(value, format).ok())
    {
        return Some(date);
    }
    let parts: Vec<&str> = value.split(['/', '-', '.']).collect();
    let [first, second, year] = parts.as_slice() else {
        return None;
    };
    let (first, second): (u32, u32) = (first.parse().ok()?, second.parse().ok()?);
    let mut year: i32 = year.parse().ok()?;
    if year < 100 {
        year += 2000;
    }
    let (month, day) = match order {
        _ if first > 12 => (second, first),
        _ if second > 12 => (first, second),
        DateOrder::MonthFirst => (first, second),
        DateOrder::DayFirst => (second, first),
    };
    NaiveDate::from_ymd_opt(year, month, day)
}

/// Parses a rating: `4`, `4.5`, `4/5`, `4 stars`, `4星`, `★★★★☆`.
pub fn parse_rating(value: &str) -> Option<f64> {
    let stars = value.chars().filter(|c| *c == '★').count();
    if stars > 0 {
        return Some(stars as f64);
    }
    let number: String = value
        .trim()
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '.')
        .collect();
    number
        .parse()
        .ok()
        .filter(|rating: &f64| rating.is_finite())
}

/// Parses a number, allowing thousands separators and a currency sign.
pub fn parse_number(value: &str) -> Option<f64> {
    let cleaned: String = value
        .chars()
        .filter(|c| !matches!(c, ',' | '$' | '¥' | '€' | '£' | ' ' | '￥'))
        .collect();
    cleaned
        .parse()
        .ok()
        .filter(|number: &f64| number.is_finite())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(text: &str) -> Option<String> {
        parse_date(text, DateOrder::MonthFirst).map(|date| date.to_string())
    }

    #[test]
    fn dates_in_the_usual_formats() {
        for text in [
            "2026-08-31",
            "2026/08/31",
            "2026.08.31",
            "2026-08-31T10:00:00Z",
            "2026-08-31 10:00:00",
            "2026年8月31日",
            "08/31/2026",
            "31/08/2026",
            "Aug 31, 2026",
            "31 Aug 2026",
            "20260831",
            "Mon Aug 31 11:35:52 -0800 2026",
            "2026-08-31 11:35:52 -0800",
            "8/31/26",
        ] {
            assert_eq!(date(text).as_deref(), Some("2026-08-31"), "{text}");
        }
        assert_eq!(date("03/04/2026").as_deref(), Some("2026-03-04"));
        assert_eq!(
            parse_date("03/04/2026", DateOrder::DayFirst)
                .map(|d| d.to_string())
                .as_deref(),
            Some("2026-04-03")
        );
        assert_eq!(date("yesterday"), None);
        assert_eq!(date("2026-02-30"), None);
        assert_eq!(date("99999999"), None);
        assert_eq!(date("+262142-01-01T00:00:00Z"), None);
    }

    #[test]
    fn ratings_and_numbers() {
        assert_eq!(parse_rating("4"), Some(4.0));
        assert_eq!(parse_rating("4.5/5"), Some(4.5));
        assert_eq!(parse_rating("4星"), Some(4.0));
        assert_eq!(parse_rating("★★★☆☆"), Some(3.0));
        assert_eq!(parse_rating("great"), None);
        assert_eq!(parse_number("$12,500.50"), Some(12500.5));
    }

    #[test]
    fn detects_english_and_chinese_headers() {
        let headers: Vec<String> = ["评分", "内容", "日期"].map(String::from).to_vec();
        let map = ColumnMap::resolve(&headers, &ColumnsConfig::default()).unwrap();
        assert_eq!(map.text, "内容");
        assert_eq!(map.date.as_deref(), Some("日期"));
        assert_eq!(map.rating.as_deref(), Some("评分"));
        let headers: Vec<String> = ["Complaint ID", "Consumer complaint narrative", "Product"]
            .map(String::from)
            .to_vec();
        let map = ColumnMap::resolve(&headers, &ColumnsConfig::default()).unwrap();
        assert_eq!(map.text, "Consumer complaint narrative");
        assert_eq!(map.id.as_deref(), Some("Complaint ID"));
        assert_eq!(map.product.as_deref(), Some("Product"));
    }

    #[test]
    fn missing_text_column_and_missing_configured_column() {
        let headers: Vec<String> = ["a", "b"].map(String::from).to_vec();
        assert_eq!(
            ColumnMap::resolve(&headers, &ColumnsConfig::default()),
            Err(MappingProblem::NoTextColumn)
        );
        let configured = ColumnsConfig {
            text: Some("body".into()),
            ..Default::default()
        };
        assert!(matches!(
            ColumnMap::resolve(&headers, &configured),
            Err(MappingProblem::MissingColumn { field: "text", .. })
        ));
    }
}
