//! `bench-plot`: draws the curves of the `scaling` bench (`target/scaling/*.json`) to
//! `docs/scaling/<curve>.svg`, and prints each curve as a Markdown table (every leg's
//! median per point and arbor's ratio to the raw baseline) for `docs/scaling.md`.
//!
//! ```text
//! cargo run -p arbor-benches --bin bench-plot [-- <curves dir> [<svg dir>]]
//! ```
//!
//! The x axis is logarithmic (base 10, or 2 for the consumer counts); the y axis is
//! linear from 0, so a flat line is a cost that grows linearly with the work. arbor legs
//! are solid, raw baselines dashed.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use arbor_benches::scaling::{scaling_dir, Curve, Series};
use plotters::prelude::*;

/// Colours by leg index: arbor legs first, then the raw ones (colour-blind-safe, Okabe–Ito).
const COLOURS: [RGBColor; 6] = [
    RGBColor(0, 114, 178),
    RGBColor(213, 94, 0),
    RGBColor(0, 158, 115),
    RGBColor(204, 121, 167),
    RGBColor(86, 180, 233),
    RGBColor(230, 159, 0),
];

fn main() -> Result<()> {
    let mut args = std::env::args().skip(1);
    let input = match args.next() {
        Some(dir) => PathBuf::from(dir),
        None => scaling_dir().context("no target directory: pass the curves' directory")?,
    };
    let output = args.next().map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/scaling"),
        PathBuf::from,
    );
    let curves = Curve::load_all(&input)
        .with_context(|| format!("no curves in {}: run the scaling bench", input.display()))?;
    std::fs::create_dir_all(&output)?;
    for curve in &curves {
        let path = output.join(format!("{}.svg", curve.name));
        plot(curve, &path).with_context(|| format!("plot {}", curve.name))?;
        eprintln!("wrote {}", path.display());
        println!("{}", table(curve));
    }
    Ok(())
}

/// `10⁴` for powers of ten from 1000 up, the plain number otherwise.
fn count_label(x: f64) -> String {
    const SUPERSCRIPTS: [char; 10] = ['⁰', '¹', '²', '³', '⁴', '⁵', '⁶', '⁷', '⁸', '⁹'];
    let exponent = x.log10().round();
    if x >= 1000.0 && (10f64.powf(exponent) - x).abs() < 0.5 {
        let digits: String = (exponent as u32)
            .to_string()
            .chars()
            .map(|digit| SUPERSCRIPTS[digit.to_digit(10).unwrap_or(0) as usize])
            .collect();
        format!("10{digits}")
    } else {
        format!("{x:.0}")
    }
}

fn plot(curve: &Curve, path: &Path) -> Result<()> {
    let xs = curve.legs.iter().flat_map(|series| &series.points);
    let (x_min, x_max) = xs.clone().fold((f64::MAX, f64::MIN), |(lo, hi), p| {
        (lo.min(p.x), hi.max(p.x))
    });
    let y_max = xs.fold(0f64, |hi, p| hi.max(p.y));
    // Consumer counts are powers of two: ticks at each.
    let base: f64 = if x_max <= 64.0 { 2.0 } else { 10.0 };
    let (x_lo, x_hi) = (x_min / 1.3, x_max * 1.3);
    // As many labels as whole powers of the base in the range: plotters then labels only
    // those (more would add crowded intermediate ticks, 2000 3000 … between decades).
    let ticks = ((x_hi / x_lo).ln() / base.ln()).floor().max(1.0) as usize;

    let root = SVGBackend::new(path, (820, 500)).into_drawing_area();
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(&curve.title, ("sans-serif", 24))
        .margin(16)
        .x_label_area_size(48)
        .y_label_area_size(72)
        .build_cartesian_2d(
            (x_lo..x_hi).log_scale().base(base),
            // Headroom: the data stays in the lower 70%, the legend goes above it.
            0f64..y_max * 1.45,
        )?;
    chart
        .configure_mesh()
        .x_desc(format!("{} (log scale)", curve.x_label))
        .y_desc(&curve.y_label)
        .x_labels(ticks)
        .x_label_formatter(&|x| count_label(*x))
        .y_label_formatter(&|y| format!("{y}"))
        .light_line_style(WHITE.mix(0.0))
        .axis_desc_style(("sans-serif", 18))
        .label_style(("sans-serif", 15))
        .draw()?;

    for (index, series) in curve.legs.iter().enumerate() {
        let colour = COLOURS[index % COLOURS.len()];
        let style = colour.stroke_width(2);
        let points: Vec<(f64, f64)> = series.points.iter().map(|p| (p.x, p.y)).collect();
        let drawn = if series.raw {
            chart.draw_series(DashedLineSeries::new(points.clone(), 8, 5, style))?
        } else {
            chart.draw_series(LineSeries::new(points.clone(), style))?
        };
        let raw = series.raw;
        drawn.label(&series.leg).legend(move |(x, y)| {
            // Dashed in the legend too: a gap between the two strokes of a raw leg.
            let gap = if raw { 3 } else { 0 };
            let stroke = |from: i32, to: i32| {
                PathElement::new(vec![(from, 0), (to, 0)], colour.stroke_width(2))
            };
            EmptyElement::at((x, y)) + stroke(0, 12 - gap) + stroke(12 + gap, 24)
        });
        chart.draw_series(
            points
                .iter()
                .map(|&point| Circle::new(point, 3, colour.filled())),
        )?;
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK.mix(0.4))
        .label_font(("sans-serif", 17))
        .draw()?;
    root.present()?;
    Ok(())
}

/// The curve as a Markdown table: x, every leg's median, and arbor / raw for each arbor
/// leg against the first raw leg (with the second raw leg for the supervisor's second
/// figure, stop against stop).
fn table(curve: &Curve) -> String {
    let (arbor, raw): (Vec<&Series>, Vec<&Series>) =
        curve.legs.iter().partition(|series| !series.raw);
    // Pair each arbor series with the raw series of the same rank when there are as many
    // (supervisor: start with start, stop with stop), else with the only raw series.
    let twin = |rank: usize| raw.get(if raw.len() == arbor.len() { rank } else { 0 });
    let mut out = format!(
        "{} ({}; {} mode, {}, load average {})\n\n| {} |",
        curve.title, curve.y_label, curve.mode, curve.date, curve.load_average, curve.x_label
    );
    for series in &curve.legs {
        out += &format!(" {} |", series.leg);
    }
    for (rank, series) in arbor.iter().enumerate() {
        if let Some(raw) = twin(rank) {
            out += &format!(" {} / {} |", series.leg, raw.leg);
        }
    }
    let ratios = (0..arbor.len())
        .filter(|&rank| twin(rank).is_some())
        .count();
    out += "\n|---|";
    out += &"---|".repeat(curve.legs.len() + ratios);
    for (index, point) in curve.legs[0].points.iter().enumerate() {
        out += &format!("\n| {} |", count_label(point.x));
        for series in &curve.legs {
            out += &format!(" {} |", figure(series.points[index].y));
        }
        for (rank, series) in arbor.iter().enumerate() {
            if let Some(raw) = twin(rank) {
                out += &format!(" {:.2}× |", series.points[index].y / raw.points[index].y);
            }
        }
    }
    out + "\n"
}

/// Three significant figures, enough for noisy medians.
fn figure(y: f64) -> String {
    match y {
        y if y >= 100.0 => format!("{y:.0}"),
        y if y >= 10.0 => format!("{y:.1}"),
        y => format!("{y:.2}"),
    }
}
