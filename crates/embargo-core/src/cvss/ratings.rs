//! A case's ratings: at most one vector per CVSS version, 3.1 and 4.0 side by side as
//! many advisories now carry them. The newest version is the case's own severity (the
//! clocks and the headline), as advisories put the newest rating first.

use super::{Cvss, Version};

/// Why ratings were refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RatingsError {
    /// A vector that does not parse.
    #[error("bad CVSS vector: {0}")]
    Bad(String),
    /// A version cases are not rated in.
    #[error("a case is rated with CVSS 3.1 or 4.0; CVSS {0} is read for old records only")]
    OldVersion(Version),
    /// Two vectors of one version.
    #[error("a case holds at most one vector per CVSS version; {0} was given twice")]
    Twice(Version),
    /// Nothing given.
    #[error("give a CVSS 3.1 or 4.0 vector, or one of each")]
    Empty,
}

fn rank(version: Version) -> u8 {
    match version {
        Version::V2 => 0,
        Version::V3_0 => 1,
        Version::V3_1 => 2,
        Version::V4_0 => 3,
    }
}

fn parse_rated(vector: &str) -> Result<Cvss, RatingsError> {
    let cvss = Cvss::parse(vector.trim()).map_err(|e| RatingsError::Bad(e.to_string()))?;
    if !matches!(cvss.version(), Version::V3_1 | Version::V4_0) {
        return Err(RatingsError::OldVersion(cvss.version()));
    }
    Ok(cvss)
}

/// Reads a full set of ratings, oldest version first.
pub fn parse_all(vectors: &[String]) -> Result<Vec<Cvss>, RatingsError> {
    let mut out: Vec<Cvss> = Vec::new();
    for vector in vectors.iter().filter(|v| !v.trim().is_empty()) {
        let cvss = parse_rated(vector)?;
        if out.iter().any(|c| c.version() == cvss.version()) {
            return Err(RatingsError::Twice(cvss.version()));
        }
        out.push(cvss);
    }
    if out.is_empty() {
        return Err(RatingsError::Empty);
    }
    out.sort_by_key(|c| rank(c.version()));
    Ok(out)
}

/// Sets one vector: it replaces the rating of its own version and keeps the other.
pub fn with_one(existing: &[Cvss], vector: &str) -> Result<Vec<Cvss>, RatingsError> {
    let cvss = parse_rated(vector)?;
    let mut out: Vec<Cvss> = existing
        .iter()
        .filter(|c| c.version() != cvss.version())
        .cloned()
        .collect();
    out.push(cvss);
    out.sort_by_key(|c| rank(c.version()));
    Ok(out)
}

/// The rating the case's severity comes from: the newest version.
pub fn primary(ratings: &[Cvss]) -> Option<&Cvss> {
    ratings.iter().max_by_key(|c| rank(c.version()))
}

/// How ratings are stored: one vector per line.
pub fn to_stored(ratings: &[Cvss]) -> String {
    ratings
        .iter()
        .map(Cvss::vector)
        .collect::<Vec<_>>()
        .join("\n")
}

/// Reads stored ratings (one vector, as before, or one per line).
pub fn from_stored(text: &str) -> Result<Vec<Cvss>, super::CvssError> {
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| Cvss::parse(l.trim()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const V31: &str = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H";
    const V40: &str = "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N";

    #[test]
    fn both_versions_side_by_side_the_newest_first_in_rank() {
        let both = parse_all(&[V40.into(), V31.into()]).unwrap();
        assert_eq!(both[0].version(), Version::V3_1);
        assert_eq!(primary(&both).unwrap().version(), Version::V4_0);
        assert_eq!(
            parse_all(&[V31.into(), V31.into()]),
            Err(RatingsError::Twice(Version::V3_1))
        );
        assert_eq!(parse_all(&[]), Err(RatingsError::Empty));
        assert!(matches!(
            parse_all(&["AV:N/AC:L/Au:N/C:P/I:P/A:P".into()]),
            Err(RatingsError::OldVersion(Version::V2))
        ));
        let stored = to_stored(&both);
        assert_eq!(from_stored(&stored).unwrap(), both);
        assert_eq!(from_stored(V31).unwrap().len(), 1);
    }

    #[test]
    fn one_vector_replaces_its_own_version_only() {
        let v31 = parse_all(&[V31.into()]).unwrap();
        let both = with_one(&v31, V40).unwrap();
        assert_eq!(both.len(), 2);
        let lower = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:L/I:N/A:N";
        let replaced = with_one(&both, lower).unwrap();
        assert_eq!(replaced[0].vector(), lower);
        assert_eq!(replaced[1].vector(), V40);
    }
}
