//! The strict check every version shares: each version supplies its table of metrics, and this
//! module refuses anything FIRST's calculators would refuse.

use super::{CvssError, Version};

pub(crate) use super::metrics::MetricDef;

/// The values a vector gives, indexed like its version's table (`None`: metric left out).
pub(crate) type Values = Vec<Option<&'static str>>;

/// Whether the version fixes the order of metrics.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Order {
    /// CVSS 2.0 and 3.x: FIRST's 3.x calculators accept any order.
    Any,
    /// CVSS 4.0: the official calculator refuses metrics out of the specification's order.
    Specification,
}

/// Checks the part of a vector after its prefix (the whole text for CVSS 2.0).
///
/// Whitespace and a trailing '/' are refused by the caller before this runs, so an empty
/// component here is always two '/' in a row.
pub(crate) fn parse_metrics(
    body: &str,
    table: &'static [MetricDef],
    order: Order,
    version: Version,
) -> Result<Values, CvssError> {
    let mut values: Values = vec![None; table.len()];
    let mut last_index: Option<usize> = None;
    // "CVSS:3.1" with nothing after it has no components at all: fall through to the
    // missing-metric check, which names what is absent.
    let components = body.split('/').filter(|_| !body.is_empty());
    for component in components {
        if component.is_empty() {
            return Err(CvssError::EmptyComponent);
        }
        let Some((name, value)) = component.split_once(':') else {
            return Err(CvssError::Malformed {
                component: component.to_owned(),
            });
        };
        if name.is_empty() || value.contains(':') {
            return Err(CvssError::Malformed {
                component: component.to_owned(),
            });
        }
        let (index, metric) = find_metric(table, name, version)?;
        if value.is_empty() {
            return Err(CvssError::EmptyValue {
                metric: metric.name,
            });
        }
        let value = find_value(metric, value)?;
        if let Some(slot) = values.get_mut(index) {
            if slot.is_some() {
                return Err(CvssError::DuplicateMetric {
                    metric: metric.name,
                });
            }
            *slot = Some(value);
        }
        if order == Order::Specification && last_index.is_some_and(|last| index < last) {
            return Err(CvssError::OutOfOrder {
                metric: metric.name,
            });
        }
        last_index = Some(index);
    }
    for (metric, value) in table.iter().zip(&values) {
        if metric.required && value.is_none() {
            return Err(CvssError::MissingBaseMetric {
                metric: metric.name,
            });
        }
    }
    Ok(values)
}

/// Finds a metric by its exact name; a name right but for case gets its own message.
fn find_metric(
    table: &'static [MetricDef],
    name: &str,
    version: Version,
) -> Result<(usize, &'static MetricDef), CvssError> {
    if let Some(found) = table.iter().enumerate().find(|(_, m)| m.name == name) {
        return Ok(found);
    }
    match table.iter().find(|m| m.name.eq_ignore_ascii_case(name)) {
        Some(metric) => Err(CvssError::WrongCase {
            found: name.to_owned(),
            expected: metric.name.to_owned(),
        }),
        None => Err(CvssError::UnknownMetric {
            metric: name.to_owned(),
            version,
        }),
    }
}

/// Finds a legal value by its exact spelling; a value right but for case gets its own message.
fn find_value(metric: &MetricDef, value: &str) -> Result<&'static str, CvssError> {
    if let Some(found) = metric.values.iter().find(|v| v.code == value) {
        return Ok(found.code);
    }
    match metric
        .values
        .iter()
        .find(|v| v.code.eq_ignore_ascii_case(value))
    {
        Some(expected) => Err(CvssError::WrongCase {
            found: format!("{}:{value}", metric.name),
            expected: format!("{}:{}", metric.name, expected.code),
        }),
        None => Err(CvssError::IllegalValue {
            metric: metric.name,
            value: value.to_owned(),
        }),
    }
}
