//! What the `scaling` bench writes and `bench-plot` reads: one [`Curve`] per JSON file in
//! [`scaling_dir`], each with an arbor leg and its raw baseline measured in the same run.
//! One type for both sides, so the file format cannot drift between writer and reader.

use std::path::PathBuf;

use anyhow::Context as _;
use serde::{Deserialize, Serialize};

/// One curve: how a cost grows with the work, for every leg.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Curve {
    /// File stem of the JSON and of the SVG (`docs/scaling/<name>.svg`).
    pub name: String,
    /// The plot's title.
    pub title: String,
    /// What x counts (the axis is logarithmic).
    pub x_label: String,
    /// What y measures, with its unit (the axis is linear, from 0).
    pub y_label: String,
    /// `full`, `quick` or `smoke`.
    pub mode: String,
    /// When the curve was measured (UTC, `YYYY-MM-DD HH:MM`).
    pub date: String,
    /// `/proc/loadavg`'s three load averages when the curve started.
    pub load_average: String,
    /// Wall time of the whole curve, seconds.
    pub seconds: f64,
    /// How each point was measured, in one sentence.
    pub method: String,
    /// The legs, arbor first.
    pub legs: Vec<Series>,
}

/// One leg of a curve.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Series {
    /// The leg's name in the legend (`arbor`, `raw_tokio`, …).
    pub leg: String,
    /// Whether this is a raw baseline (drawn dashed).
    pub raw: bool,
    /// Its points, by increasing x.
    pub points: Vec<Point>,
}

/// One point: the median of several runs.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Point {
    /// The work (events, children, keys, actors, consumers).
    pub x: f64,
    /// The median of `runs`, in the curve's y unit.
    pub y: f64,
    /// Every run, in the curve's y unit.
    pub runs: Vec<f64>,
}

impl Curve {
    /// The leg named `leg`, if measured.
    pub fn leg(&self, leg: &str) -> Option<&Series> {
        self.legs.iter().find(|series| series.leg == leg)
    }

    /// Writes the curve to `<scaling_dir>/<name>.json`; returns the path.
    ///
    /// # Errors
    ///
    /// When the directory or file cannot be written.
    pub fn save(&self) -> anyhow::Result<PathBuf> {
        let dir = scaling_dir().context("find the target directory")?;
        std::fs::create_dir_all(&dir).with_context(|| format!("create {}", dir.display()))?;
        let path = dir.join(format!("{}.json", self.name));
        let json = serde_json::to_string_pretty(self)?;
        std::fs::write(&path, json).with_context(|| format!("write {}", path.display()))?;
        Ok(path)
    }

    /// Every curve saved in `dir`, by name.
    ///
    /// # Errors
    ///
    /// When the directory or a file cannot be read or parsed.
    pub fn load_all(dir: &std::path::Path) -> anyhow::Result<Vec<Curve>> {
        let mut curves = Vec::new();
        for entry in std::fs::read_dir(dir).with_context(|| format!("read {}", dir.display()))? {
            let path = entry?.path();
            if path.extension().is_some_and(|ext| ext == "json") {
                let json = std::fs::read_to_string(&path)?;
                let curve: Curve = serde_json::from_str(&json)
                    .with_context(|| format!("parse {}", path.display()))?;
                curves.push(curve);
            }
        }
        curves.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(curves)
    }
}

/// Where the curves go: `$ARBOR_SCALING_DIR`, else `<target>/scaling`. The target
/// directory is `$CARGO_TARGET_DIR`, else the nearest ancestor of this executable that
/// holds cargo's `CACHEDIR.TAG` (bench binaries and bins sit at different depths).
pub fn scaling_dir() -> Option<PathBuf> {
    if let Ok(dir) = std::env::var("ARBOR_SCALING_DIR") {
        return Some(PathBuf::from(dir));
    }
    if let Ok(target) = std::env::var("CARGO_TARGET_DIR") {
        return Some(PathBuf::from(target).join("scaling"));
    }
    let exe = std::env::current_exe().ok()?;
    exe.ancestors()
        .find(|dir| dir.join("CACHEDIR.TAG").is_file())
        .map(|target| target.join("scaling"))
}

/// `/proc/loadavg`'s first three fields (`"?"` off Linux).
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .map(|line| {
            line.split_whitespace()
                .take(3)
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_else(|| "?".into())
}

/// The current UTC time as `YYYY-MM-DD HH:MM`, without a date crate.
pub fn utc_now() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs());
    let (days, rest) = (secs / 86_400, secs % 86_400);
    // Howard Hinnant's civil_from_days, for days since 1970-01-01.
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}",
        rest / 3600,
        rest % 3600 / 60
    )
}
