//! Periods are calendar months, `YYYY-MM`: documents count in the month of their date, or, when
//! they have none, in the month of the run that added them.

use chrono::{Datelike, NaiveDate};

/// The period of a date.
pub fn period_of(date: NaiveDate) -> String {
    format!("{:04}-{:02}", date.year(), date.month())
}

/// The period of a run id (`YYYYMMDDTHHMMSS...Z`), if it has that shape.
pub fn period_of_run(run: &str) -> Option<String> {
    let year = run.get(0..4)?;
    let month = run.get(4..6)?;
    (year
        .bytes()
        .chain(month.bytes())
        .all(|byte| byte.is_ascii_digit()))
    .then(|| format!("{year}-{month}"))
}

/// Parses `YYYY-MM` into its first day.
pub fn first_day(period: &str) -> Option<NaiveDate> {
    let (year, month) = period.split_once('-')?;
    NaiveDate::from_ymd_opt(year.parse().ok()?, month.parse().ok()?, 1)
}

/// The last day of a period.
pub fn last_day(period: &str) -> Option<NaiveDate> {
    let first = first_day(period)?;
    let next = first.checked_add_months(chrono::Months::new(1))?;
    next.pred_opt()
}

/// Every period from `first` to `last` inclusive, in order (empty when `first > last` or either
/// is malformed).
pub fn periods_between(first: &str, last: &str) -> Vec<String> {
    let (Some(mut day), Some(end)) = (first_day(first), first_day(last)) else {
        return Vec::new();
    };
    let mut periods = Vec::new();
    while day <= end {
        periods.push(period_of(day));
        match day.checked_add_months(chrono::Months::new(1)) {
            Some(next) => day = next,
            None => break,
        }
    }
    periods
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_are_months() {
        let date = NaiveDate::from_ymd_opt(2026, 2, 14).unwrap();
        assert_eq!(period_of(date), "2026-02");
        assert_eq!(
            period_of_run("20261122T164012.123Z").as_deref(),
            Some("2026-11")
        );
        assert_eq!(period_of_run("run"), None);
        assert_eq!(last_day("2024-02"), NaiveDate::from_ymd_opt(2024, 2, 29));
        assert_eq!(
            periods_between("2025-11", "2026-02"),
            ["2025-11", "2025-12", "2026-01", "2026-02"]
        );
        assert!(periods_between("2026-03", "2026-01").is_empty());
    }
}
