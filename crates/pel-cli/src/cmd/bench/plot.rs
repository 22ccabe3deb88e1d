//! The SVG of `--plot`: each block's speedup next to its ideal at the highest thread count,
//! and each block's speedup against the thread count.

use super::report::Record;
use anyhow::{Context, anyhow};
use plotters::prelude::*;
use std::path::Path;

/// Series colours, cycled.
const PALETTE: [RGBColor; 8] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
];

/// Legends name at most this many blocks; more would hide the lines.
const MAX_LEGEND: usize = 12;

/// Draws `records` into the SVG file `path`, written whole or not at all.
pub(crate) fn write_svg(path: &Path, records: &[Record]) -> anyhow::Result<()> {
    let mut svg = String::new();
    draw(&mut svg, records).map_err(|e| anyhow!("drawing the plot: {e}"))?;
    let temporary = path.with_extension("svg.tmp");
    std::fs::write(&temporary, svg).with_context(|| format!("writing {}", temporary.display()))?;
    std::fs::rename(&temporary, path).with_context(|| format!("writing {}", path.display()))
}

type DrawResult = Result<(), Box<dyn std::error::Error>>;

fn draw(svg: &mut String, records: &[Record]) -> DrawResult {
    let names = block_names(records);
    let root = SVGBackend::with_string(svg, (1200, 1040)).into_drawing_area();
    root.fill(&WHITE)?;
    let (top, bottom) = root.split_vertically(520);
    draw_against_ideal(&top, records, &names)?;
    draw_against_threads(&bottom, records, &names)?;
    root.present()?;
    Ok(())
}

fn block_names(records: &[Record]) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for record in records {
        if !names.contains(&record.name) {
            names.push(record.name.clone());
        }
    }
    names
}

fn draw_against_ideal<DB: DrawingBackend>(
    area: &DrawingArea<DB, plotters::coord::Shift>,
    records: &[Record],
    names: &[String],
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let threads = records.iter().map(|r| r.threads).max().unwrap_or(1);
    let at_max: Vec<&Record> = names
        .iter()
        .filter_map(|name| {
            records
                .iter()
                .find(|r| &r.name == name && r.threads == threads)
        })
        .collect();
    let top = at_max
        .iter()
        .map(|r| r.speedup.max(r.ideal_speedup))
        .fold(1.0, f64::max)
        * 1.15;
    let count = at_max.len().max(1);
    let mut chart = ChartBuilder::on(area)
        .caption(
            format!("Speedup over sequential on {threads} threads, and the ideal"),
            ("sans-serif", 22),
        )
        .margin(16)
        .x_label_area_size(110)
        .y_label_area_size(60)
        .build_cartesian_2d(0.0..count as f64, 0.0..top)?;
    let label_of = |x: &f64| {
        let index = x.floor() as usize;
        at_max
            .get(index)
            .map(|r| r.name.clone())
            .unwrap_or_default()
    };
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(count * 2 + 1)
        .x_label_formatter(&|x| {
            // One label per block, at the centre of its bars.
            if (x.fract() - 0.5).abs() < 1e-6 {
                label_of(x)
            } else {
                String::new()
            }
        })
        .x_label_style(
            ("sans-serif", 13)
                .into_font()
                .transform(FontTransform::Rotate90),
        )
        .y_desc("speedup (x)")
        .draw()?;
    let speed = PALETTE[0];
    let ideal = PALETTE[7];
    chart
        .draw_series(at_max.iter().enumerate().map(|(i, r)| {
            let x = i as f64;
            Rectangle::new([(x + 0.12, 0.0), (x + 0.5, r.speedup)], speed.filled())
        }))?
        .label("measured speedup")
        .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 14, y + 5)], speed.filled()));
    chart
        .draw_series(at_max.iter().enumerate().map(|(i, r)| {
            let x = i as f64;
            Rectangle::new(
                [(x + 0.5, 0.0), (x + 0.88, r.ideal_speedup)],
                ideal.filled(),
            )
        }))?
        .label("ideal (dependency graph)")
        .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 14, y + 5)], ideal.filled()));
    chart.draw_series(std::iter::once(PathElement::new(
        vec![(0.0, 1.0), (count as f64, 1.0)],
        BLACK.stroke_width(1),
    )))?;
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .position(SeriesLabelPosition::UpperRight)
        .draw()?;
    Ok(())
}

fn draw_against_threads<DB: DrawingBackend>(
    area: &DrawingArea<DB, plotters::coord::Shift>,
    records: &[Record],
    names: &[String],
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let max_threads = records.iter().map(|r| r.threads).max().unwrap_or(1).max(2);
    let top = records
        .iter()
        .map(|r| r.speedup.max(r.threads as f64))
        .fold(1.0, f64::max)
        .min(max_threads as f64 * 1.2)
        * 1.1;
    let mut chart = ChartBuilder::on(area)
        .caption("Speedup against thread count", ("sans-serif", 22))
        .margin(16)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(1.0..max_threads as f64, 0.0..top)?;
    chart
        .configure_mesh()
        .x_desc("threads")
        .y_desc("speedup (x)")
        .draw()?;
    chart
        .draw_series(std::iter::once(PathElement::new(
            vec![(1.0, 1.0), (max_threads as f64, max_threads as f64)],
            BLACK.mix(0.4).stroke_width(1),
        )))?
        .label("linear")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 14, y)], BLACK.mix(0.4)));
    for (index, name) in names.iter().enumerate() {
        let colour = PALETTE.get(index % PALETTE.len()).copied().unwrap_or(BLACK);
        let mut points: Vec<(f64, f64)> = records
            .iter()
            .filter(|r| &r.name == name)
            .map(|r| (r.threads as f64, r.speedup))
            .collect();
        points.sort_by(|a, b| a.0.total_cmp(&b.0));
        let series = chart.draw_series(LineSeries::new(points.clone(), colour.stroke_width(2)))?;
        if index < MAX_LEGEND {
            series.label(name.as_str()).legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 14, y)], colour.stroke_width(2))
            });
        }
        chart.draw_series(
            points
                .into_iter()
                .map(|point| Circle::new(point, 3, colour.filled())),
        )?;
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .position(SeriesLabelPosition::UpperLeft)
        .draw()?;
    Ok(())
}
