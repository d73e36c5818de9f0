//! Charts: plotters draws them as SVG strings that the HTML inlines; Markdown gets text
//! sparklines instead. plotters is built without its font features, so it only estimates text
//! widths and leaves glyphs to the browser: labels name a CJK-capable font family list, which
//! any system with Chinese fonts resolves, and nothing is embedded or fetched.

use std::collections::BTreeMap;

use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::prelude::*;

use super::{ReportError, SentimentCounts};

/// Fonts for chart text, Chinese-capable ones first, ending with the generic family.
pub const FONT_FAMILY: &str =
    "Noto Sans CJK SC, Source Han Sans SC, Microsoft YaHei, PingFang SC, sans-serif";

const NEGATIVE: RGBColor = RGBColor(192, 57, 43);
const NEUTRAL: RGBColor = RGBColor(127, 140, 141);
const POSITIVE: RGBColor = RGBColor(39, 174, 96);
const BAR: RGBColor = RGBColor(52, 101, 164);

/// Blocks of rising height for text sparklines.
const SPARK_BLOCKS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

fn chart_error(error: impl std::error::Error + Send + Sync + 'static) -> ReportError {
    ReportError::Chart(Box::new(error))
}

/// Draws into a fresh SVG of the given size and returns it ready to inline into HTML.
fn svg(
    size: (u32, u32),
    draw: impl FnOnce(&DrawingArea<SVGBackend, Shift>) -> Result<(), ReportError>,
) -> Result<String, ReportError> {
    let mut text = String::new();
    {
        let root = SVGBackend::with_string(&mut text, size).into_drawing_area();
        root.fill(&WHITE).map_err(chart_error)?;
        draw(&root)?;
        root.present().map_err(chart_error)?;
    }
    Ok(inline(&text))
}

/// Inline SVG in HTML needs no namespace declaration; leaving it out keeps the page free of any
/// `http://` text, so a check for network references has nothing to explain away.
fn inline(svg: &str) -> String {
    svg.replace(r#" xmlns="http://www.w3.org/2000/svg""#, "")
        .replacen("<svg ", r#"<svg role="img" "#, 1)
}

/// A small bar chart of counts per period, without axes, for a problem's trend.
pub fn period_bars(counts: &BTreeMap<String, u64>) -> Result<String, ReportError> {
    let (width, height) = (200, 52);
    svg((width, height), |root| {
        let maximum = counts.values().copied().max().unwrap_or(0).max(1) as f64;
        let slot = f64::from(width - 8) / counts.len().max(1) as f64;
        for (position, (period, &count)) in counts.iter().enumerate() {
            let left = 4 + (slot * position as f64) as i32;
            let right = left + (slot * 0.8).max(1.0) as i32;
            let top = 36 - (32.0 * count as f64 / maximum) as i32;
            root.draw(&Rectangle::new([(left, top), (right, 36)], BAR.filled()))
                .map_err(chart_error)?;
            let last = position + 1 == counts.len();
            if position == 0 || last {
                let anchor = if last { right - 48 } else { left };
                root.draw(&Text::new(
                    format!("{period} {count}"),
                    (anchor.max(0), 39),
                    (FONT_FAMILY, 13).into_font().color(&BLACK),
                ))
                .map_err(chart_error)?;
            }
        }
        Ok(())
    })
}

/// Documents per sentiment label per month, as three lines with a legend.
pub fn sentiment_lines(
    by_period: &BTreeMap<String, SentimentCounts>,
) -> Result<String, ReportError> {
    let periods: Vec<&String> = by_period.keys().collect();
    let series = sentiment_series(by_period);
    let maximum = series
        .iter()
        .flat_map(|(_, _, points)| points.iter().map(|&(_, y)| y))
        .fold(1.0, f64::max);
    svg((640, 260), |root| {
        let (plot_area, legend_area) = root.split_horizontally(540);
        let mut chart = ChartBuilder::on(&plot_area)
            .margin(10)
            .x_label_area_size(28)
            .y_label_area_size(44)
            .build_cartesian_2d(
                -0.5f64..(periods.len() as f64 - 0.5).max(0.5),
                0f64..maximum * 1.1,
            )
            .map_err(chart_error)?;
        let period_label = |value: &f64| period_at(&periods, *value);
        chart
            .configure_mesh()
            .x_labels(periods.len().max(1) * 2 + 1)
            .x_label_formatter(&period_label)
            .y_labels(6)
            .y_label_formatter(&whole_number)
            .label_style((FONT_FAMILY, 16))
            .light_line_style(WHITE)
            .disable_x_mesh()
            .draw()
            .map_err(chart_error)?;
        let legend: Vec<(&str, RGBColor)> = series
            .iter()
            .map(|(name, color, _)| (*name, *color))
            .collect();
        for (_, color, points) in series {
            draw_line(&mut chart, color, points)?;
        }
        draw_legend(&legend_area, &legend)
    })
}

/// The series names beside the plot, where they cannot hide a line.
fn draw_legend(
    area: &DrawingArea<SVGBackend, Shift>,
    entries: &[(&str, RGBColor)],
) -> Result<(), ReportError> {
    for (position, (name, color)) in entries.iter().enumerate() {
        let y = 24 + 24 * position as i32;
        area.draw(&PathElement::new(
            vec![(8, y), (28, y)],
            color.stroke_width(3),
        ))
        .map_err(chart_error)?;
        area.draw(&Text::new(
            name.to_string(),
            (34, y - 8),
            (FONT_FAMILY, 16).into_font().color(&BLACK),
        ))
        .map_err(chart_error)?;
    }
    Ok(())
}

/// A labelled line: (label, colour, (period position, count) points).
type Series = (&'static str, RGBColor, Vec<(f64, f64)>);

/// One line per sentiment label.
fn sentiment_series(by_period: &BTreeMap<String, SentimentCounts>) -> [Series; 3] {
    let points = |count: fn(&SentimentCounts) -> u64| -> Vec<(f64, f64)> {
        by_period
            .values()
            .enumerate()
            .map(|(position, counts)| (position as f64, count(counts) as f64))
            .collect()
    };
    [
        ("negative", NEGATIVE, points(|counts| counts.negative)),
        ("neutral", NEUTRAL, points(|counts| counts.neutral)),
        ("positive", POSITIVE, points(|counts| counts.positive)),
    ]
}

/// The period whose position `value` is, or nothing between positions.
fn period_at(periods: &[&String], value: f64) -> String {
    let position = value.round();
    match periods.get(position as usize) {
        Some(period) if (value - position).abs() < 1e-6 && position >= 0.0 => period.to_string(),
        _ => String::new(),
    }
}

type LineChart<'area, 'text> =
    ChartContext<'area, SVGBackend<'text>, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

/// A line with a dot on every point (a single period still shows).
fn draw_line(
    chart: &mut LineChart,
    color: RGBColor,
    points: Vec<(f64, f64)>,
) -> Result<(), ReportError> {
    chart
        .draw_series(LineSeries::new(points.clone(), color.stroke_width(2)))
        .map_err(chart_error)?;
    chart
        .draw_series(
            points
                .into_iter()
                .map(|point| Circle::new(point, 3, color.filled())),
        )
        .map_err(chart_error)?;
    Ok(())
}

/// Axis labels for counts: whole numbers only, so a small range does not repeat labels.
fn whole_number(value: &f64) -> String {
    if (value - value.round()).abs() < 1e-9 {
        format!("{value:.0}")
    } else {
        String::new()
    }
}

/// Horizontal bars, one per labelled value (problem titles, teams), largest first as given.
pub fn labelled_bars(
    items: &[(String, f64)],
    format_value: impl Fn(f64) -> String,
) -> Result<String, ReportError> {
    let row = 26;
    let (width, label_width) = (640, 300);
    let height = (items.len() as u32).max(1) * row + 8;
    svg((width, height), |root| {
        let maximum = items.iter().map(|(_, value)| *value).fold(0.0, f64::max);
        let scale = if maximum > 0.0 { 240.0 / maximum } else { 0.0 };
        let style = (FONT_FAMILY, 17).into_font().color(&BLACK);
        for (position, (label, value)) in items.iter().enumerate() {
            let top = 4 + position as i32 * row as i32;
            let label: String = shorten(label, LABEL_UNITS);
            root.draw(&Text::new(label, (4, top + 5), style.clone()))
                .map_err(chart_error)?;
            let right = label_width + (value * scale).max(1.0) as i32;
            root.draw(&Rectangle::new(
                [(label_width, top + 3), (right, top + row as i32 - 3)],
                BAR.filled(),
            ))
            .map_err(chart_error)?;
            root.draw(&Text::new(
                format_value(*value),
                (right + 6, top + 5),
                style.clone(),
            ))
            .map_err(chart_error)?;
        }
        Ok(())
    })
}

/// Label width in half-em units that fits beside the bars.
const LABEL_UNITS: usize = 34;

/// At most `limit` half-em units (a Chinese character takes two, a Latin letter about one),
/// with an ellipsis when cut, so labels in either language fit the same space.
fn shorten(text: &str, limit: usize) -> String {
    let width = |character: char| if is_wide(character) { 2 } else { 1 };
    if text.chars().map(width).sum::<usize>() <= limit {
        return text.to_string();
    }
    let mut used = 1;
    let mut kept = String::new();
    for character in text.chars() {
        used += width(character);
        if used > limit {
            break;
        }
        kept.push(character);
    }
    format!("{}…", kept.trim_end())
}

/// Characters drawn a full em wide: CJK ideographs, kana, hangul and full-width forms.
fn is_wide(character: char) -> bool {
    matches!(character as u32,
        0x1100..=0x115F | 0x2E80..=0xA4CF | 0xAC00..=0xD7A3 | 0xF900..=0xFAFF | 0xFE30..=0xFE4F
        | 0xFF00..=0xFF60 | 0xFFE0..=0xFFE6 | 0x20000..=0x3FFFD)
}

/// A text sparkline, one block per value, scaled to the largest.
pub fn sparkline(values: &[u64]) -> String {
    let maximum = values.iter().copied().max().unwrap_or(0);
    values
        .iter()
        .map(|&value| {
            let top = SPARK_BLOCKS.len() as u64 - 1;
            let step = (value * top + maximum / 2)
                .checked_div(maximum)
                .unwrap_or(0);
            SPARK_BLOCKS[step as usize]
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_shortened_by_width_in_either_language() {
        assert_eq!(shorten("brake noise", 34), "brake noise");
        assert_eq!(shorten("abcdefghij", 6), "abcde…");
        assert_eq!(shorten("刹车异响维修保养", 8), "刹车异…");
        assert_eq!(shorten("刹车异响", 8), "刹车异响");
    }

    #[test]
    fn sparklines_scale_to_the_largest_value() {
        assert_eq!(sparkline(&[0, 4, 8]), "▁▅█");
        assert_eq!(sparkline(&[0, 0]), "▁▁");
        assert_eq!(sparkline(&[]), "");
    }

    #[test]
    fn chinese_labels_are_kept_and_name_a_cjk_font() {
        let items = vec![
            ("刹车异响 · 维修".to_string(), 12.0),
            ("refund fee".to_string(), 3.0),
        ];
        let svg = labelled_bars(&items, |value| format!("{value:.0}")).unwrap();
        assert!(svg.contains("刹车异响 · 维修"), "{svg}");
        assert!(svg.contains("Noto Sans CJK SC"), "{svg}");
        assert!(!svg.contains("http"), "{svg}");
    }

    #[test]
    fn charts_draw_with_one_period_and_with_none() {
        let mut counts = BTreeMap::new();
        assert!(period_bars(&counts).unwrap().starts_with("<svg"));
        counts.insert("2026-09".to_string(), 4);
        assert!(period_bars(&counts).unwrap().contains("2026-09 4"));
        let mut sentiment = BTreeMap::new();
        sentiment.insert(
            "2026-09".to_string(),
            SentimentCounts {
                negative: 3,
                neutral: 1,
                positive: 2,
            },
        );
        let svg = sentiment_lines(&sentiment).unwrap();
        assert!(svg.contains("2026-09") && svg.contains("negative"), "{svg}");
        assert!(sentiment_lines(&BTreeMap::new()).is_ok());
    }
}
