//! Bar charts as server-rendered SVG (plotters), for the metrics page. No script draws
//! them; the figures they show are also in the tables beside them.

use plotters::prelude::*;

/// One bar: its label and its value.
pub struct Bar {
    pub label: String,
    pub value: f64,
}

/// Why a chart could not be drawn; the page then shows the table alone.
#[derive(Debug, thiserror::Error)]
#[error("the chart could not be drawn: {0}")]
pub struct ChartError(String);

fn err<E: std::fmt::Display>(e: E) -> ChartError {
    ChartError(e.to_string())
}

/// A vertical bar chart of `bars`, `unit` naming the value axis.
pub fn bars(bars: &[Bar], unit: &str) -> Result<String, ChartError> {
    let mut svg = String::new();
    if bars.is_empty() {
        return Ok(svg);
    }
    {
        let root = SVGBackend::with_string(&mut svg, (640, 300)).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let top = bars.iter().map(|b| b.value).fold(0.0_f64, f64::max);
        let top = if top <= 0.0 { 1.0 } else { top * 1.15 };
        let labels: Vec<&str> = bars.iter().map(|b| b.label.as_str()).collect();
        let mut chart = ChartBuilder::on(&root)
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(48)
            // A segmented range holds one more segment than its end: 0..n-1 gives n.
            .build_cartesian_2d((0..bars.len() - 1).into_segmented(), 0.0..top)
            .map_err(err)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .light_line_style(TRANSPARENT)
            .y_desc(unit)
            .x_labels(bars.len())
            .x_label_formatter(&|x| match x {
                SegmentValue::CenterOf(i) => {
                    labels.get(*i).map(|l| (*l).to_owned()).unwrap_or_default()
                }
                _ => String::new(),
            })
            .label_style(("sans-serif", 13))
            .draw()
            .map_err(err)?;
        // The site's accent colour, which has enough contrast on white.
        let accent = RGBColor(0x0b, 0x53, 0x94);
        chart
            .draw_series(
                Histogram::vertical(&chart)
                    .style(accent.filled())
                    .margin(8)
                    .data(bars.iter().enumerate().map(|(i, b)| (i, b.value))),
            )
            .map_err(err)?;
        root.present().map_err(err)?;
    }
    Ok(svg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chart_is_an_svg_with_its_labels() {
        let svg = bars(
            &[
                Bar {
                    label: "reported".into(),
                    value: 3.0,
                },
                Bar {
                    label: "closed".into(),
                    value: 1.0,
                },
            ],
            "cases",
        )
        .unwrap_or_default();
        assert!(svg.starts_with("<svg"), "{svg}");
        assert!(svg.contains("reported") && svg.contains("closed"));
        assert!(bars(&[], "cases").unwrap_or_default().is_empty());
    }
}
