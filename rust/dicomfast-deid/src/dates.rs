//! Dates moved by whole days (Retain Longitudinal Temporal Information with Modified
//! Dates), as `dicomfast.deid.dates` moves them: a DA must be 8 digits of a valid
//! proleptic Gregorian date in years 1-9999; a DT keeps everything after its date.

/// Days from 0001-01-01 (day 0) of a valid date.
fn days_from_civil(y: i64, m: i64, d: i64) -> Option<i64> {
    if !(1..=9999).contains(&y) || !(1..=12).contains(&m) || d < 1 || d > month_days(y, m) {
        return None;
    }
    let y0 = if m <= 2 { y - 1 } else { y };
    let era = y0.div_euclid(400);
    let yoe = y0 - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    // 719_468: days from 0000-03-01 to 1970-01-01; 719_162: from 0001-01-01.
    Some(era * 146_097 + doe - 719_468 + 719_162)
}

fn civil_from_days(n: i64) -> (i64, i64, i64) {
    let z = n - 719_162 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

fn month_days(y: i64, m: i64) -> i64 {
    match m {
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Python's `str.strip()` of an ASCII string (white space includes 0x1C-0x1F).
pub(crate) fn py_strip(v: &str) -> &str {
    v.trim_matches(|c: char| matches!(c, '\t'..='\r' | '\x1c'..='\x1f' | ' '))
}

/// A `YYYYMMDD` date moved by `days`; None when it is not a whole valid date or the
/// result leaves years 1-9999.  The year is not zero-padded (as `strftime("%Y")`).
pub fn shift_da(value: &str, days: i64) -> Option<String> {
    let v = py_strip(value);
    if v.len() != 8 || !v.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let num = |r: std::ops::Range<usize>| v[r].parse::<i64>().ok();
    let n = days_from_civil(num(0..4)?, num(4..6)?, num(6..8)?)? + days;
    let (y, m, d) = civil_from_days(n);
    (1..=9999).contains(&y).then(|| format!("{y}{m:02}{d:02}"))
}

/// A DT value with its date moved by `days` and the rest kept.
pub fn shift_dt(value: &str, days: i64) -> Option<String> {
    let v = py_strip(value);
    let head = v.get(..8.min(v.len()))?;
    Some(shift_da(head, days)? + &v[head.len()..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shifts() {
        assert_eq!(shift_da("20000301", -1).as_deref(), Some("20000229"));
        assert_eq!(shift_da("19700101", 0).as_deref(), Some("19700101"));
        assert_eq!(shift_da(" 20240101 ", -3650).as_deref(), Some("20140103"));
        assert_eq!(shift_da("10050101", -3000).as_deref(), Some("9961014"));
        assert_eq!(shift_da("00010105", -10), None);
        assert_eq!(shift_da("20230229", -1), None);
        assert_eq!(shift_da("2023", -1), None);
        assert_eq!(
            shift_dt("20200101120000.5+0100", -1).as_deref(),
            Some("20191231120000.5+0100")
        );
        assert_eq!(shift_dt("2020", -1), None);
        for n in [0, 1, 365, 719_162, 3_652_058] {
            let (y, m, d) = civil_from_days(n);
            assert_eq!(days_from_civil(y, m, d), Some(n));
        }
    }
}
