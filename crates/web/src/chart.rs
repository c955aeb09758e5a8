//! The one chart component every board uses: a page places `{% call chart::chart(…) %}`
//! (templates/_chart.html), which names a JSON data endpoint; `static/chart.js` draws it with
//! the vendored ECharts and sends a click on a bar or slice to the list behind it. The table
//! stays on the page beside the chart for those who read figures.

use axum::Json;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// How a chart draws its series.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ChartKind {
    /// Bars per category, one bar a series (stacked when `stacked`).
    Bar,
    /// One slice per category, from the first series.
    Pie,
    /// A line per series over the categories.
    Line,
}

/// One series: a value per category and, beside each, the URL of the rows behind it.
#[derive(Debug, Clone, Serialize)]
pub struct Series {
    pub name: String,
    pub values: Vec<f64>,
    /// Where a click on each value leads (empty: not a link).
    pub links: Vec<String>,
}

/// What a chart's data endpoint answers.
#[derive(Debug, Clone, Serialize)]
pub struct ChartData {
    pub kind: ChartKind,
    pub categories: Vec<String>,
    pub series: Vec<Series>,
    pub stacked: bool,
    /// The unit of the values (`%`), for the tooltip.
    pub unit: String,
}

impl ChartData {
    pub fn new(kind: ChartKind, categories: Vec<String>) -> Self {
        Self {
            kind,
            categories,
            series: Vec::new(),
            stacked: false,
            unit: String::new(),
        }
    }

    pub fn series(mut self, name: String, values: Vec<f64>, links: Vec<String>) -> Self {
        self.series.push(Series {
            name,
            values,
            links,
        });
        self
    }

    pub fn stacked(mut self) -> Self {
        self.stacked = true;
        self
    }
}

impl IntoResponse for ChartData {
    fn into_response(self) -> Response {
        Json(self).into_response()
    }
}
