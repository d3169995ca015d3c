//! Durations on the command line: `30s`, `500ms`, `2m`, `1h` or plain
//! seconds.

use std::time::Duration;

/// Parses a duration: a whole number followed by `ms`, `s`, `m` or `h`,
/// or by nothing for seconds.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
    let (digits, unit) = text.split_at(split);
    let number: u64 = digits
        .parse()
        .map_err(|_| format!("`{text}` is not a duration such as 30s"))?;
    let millis_per_unit: u64 = match unit.trim() {
        "ms" => 1,
        "" | "s" => 1_000,
        "m" | "min" => 60_000,
        "h" => 3_600_000,
        _ => return Err(format!("unknown unit in duration `{text}`")),
    };
    let millis = number
        .checked_mul(millis_per_unit)
        .ok_or_else(|| format!("duration `{text}` is too long"))?;
    if millis == 0 {
        return Err(format!("duration `{text}` is zero"));
    }
    Ok(Duration::from_millis(millis))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_with_units() {
        assert_eq!(parse_duration("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("1h"), Ok(Duration::from_secs(3600)));
        assert_eq!(parse_duration("7"), Ok(Duration::from_secs(7)));
    }

    #[test]
    fn bad_durations_are_refused() {
        assert!(parse_duration("soon").is_err());
        assert!(parse_duration("5 days").is_err());
        assert!(parse_duration("0s").is_err());
        assert!(parse_duration("").is_err());
        assert!(parse_duration("99999999999999999h").is_err());
    }
}
