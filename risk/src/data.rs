//! Reading a CSV into numeric columns.
//!
//! Every cell is parsed as a number; empty cells and the usual missing-value markers (`NA`,
//! `N/A`, `NaN`, `null`, `None`, `?`) become missing, stored as `f64::NAN`. A column with any
//! other non-numeric cell is kept but marked non-numeric: training skips it and says so.

use std::io::Read;
use std::path::Path;

use crate::error::RiskError;

/// Most data rows a table may hold.
pub const ROWS_MAX: usize = 5_000_000;
/// Most columns a table may hold.
pub const COLUMNS_MAX: usize = 1_000;

/// Column-major numeric data with named columns; `NaN` marks a missing cell.
#[derive(Debug, Clone)]
pub struct Table {
    names: Vec<String>,
    columns: Vec<Vec<f64>>,
    /// The first cell of each column that was neither a number nor a missing marker.
    first_non_numeric: Vec<Option<NonNumericCell>>,
}

#[derive(Debug, Clone, PartialEq)]
struct NonNumericCell {
    row: usize,
    text: String,
}

impl Table {
    /// Reads a CSV file with a header row.
    ///
    /// # Errors
    /// IO and CSV errors, ragged rows, duplicated column names, and the row and column limits.
    pub fn read_csv(path: &Path) -> Result<Table, RiskError> {
        let file = std::fs::File::open(path).map_err(|source| RiskError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Table::from_reader(std::io::BufReader::new(file), path)
    }

    /// Reads CSV text from any reader; `path` only names the source in errors.
    ///
    /// # Errors
    /// As [`Table::read_csv`].
    pub fn from_reader<R: Read>(reader: R, path: &Path) -> Result<Table, RiskError> {
        let csv_error = |source| RiskError::Csv {
            path: path.to_path_buf(),
            source,
        };
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(true)
            .flexible(true)
            .trim(csv::Trim::All)
            .from_reader(reader);
        let names: Vec<String> = reader
            .headers()
            .map_err(csv_error)?
            .iter()
            .map(str::to_owned)
            .collect();
        let mut table = Table::empty(names)?;
        let mut record = csv::StringRecord::new();
        while reader.read_record(&mut record).map_err(csv_error)? {
            table.push_record(&record)?;
        }
        Ok(table)
    }

    /// Builds a table from named columns of equal length (`NaN` = missing).
    ///
    /// # Errors
    /// Duplicated names, the limits.
    ///
    /// # Panics
    /// If the columns differ in length or do not match the names one to one.
    pub fn from_columns(names: Vec<String>, columns: Vec<Vec<f64>>) -> Result<Table, RiskError> {
        assert_eq!(names.len(), columns.len(), "one column per name");
        let rows = columns.first().map_or(0, Vec::len);
        assert!(columns.iter().all(|column| column.len() == rows));
        let mut table = Table::empty(names)?;
        if rows > ROWS_MAX {
            return Err(RiskError::TooManyRows {
                rows,
                limit: ROWS_MAX,
            });
        }
        table.columns = columns;
        Ok(table)
    }

    fn empty(names: Vec<String>) -> Result<Table, RiskError> {
        if names.len() > COLUMNS_MAX {
            return Err(RiskError::TooManyColumns {
                columns: names.len(),
                limit: COLUMNS_MAX,
            });
        }
        for (index, name) in names.iter().enumerate() {
            if names[..index].contains(name) {
                return Err(RiskError::DuplicateColumn {
                    column: name.clone(),
                });
            }
        }
        Ok(Table {
            columns: vec![Vec::new(); names.len()],
            first_non_numeric: vec![None; names.len()],
            names,
        })
    }

    fn push_record(&mut self, record: &csv::StringRecord) -> Result<(), RiskError> {
        let row = self.rows() + 1;
        if record.len() != self.names.len() {
            return Err(RiskError::RaggedRow {
                row,
                found: record.len(),
                expected: self.names.len(),
            });
        }
        if row > ROWS_MAX {
            return Err(RiskError::TooManyRows {
                rows: row,
                limit: ROWS_MAX,
            });
        }
        for (index, text) in record.iter().enumerate() {
            let value = match parse_cell(text) {
                Cell::Number(value) => value,
                Cell::Missing => f64::NAN,
                Cell::Text => {
                    if self.first_non_numeric[index].is_none() {
                        self.first_non_numeric[index] = Some(NonNumericCell {
                            row,
                            text: text.to_owned(),
                        });
                    }
                    f64::NAN
                }
            };
            self.columns[index].push(value);
        }
        Ok(())
    }

    pub fn rows(&self) -> usize {
        self.columns.first().map_or(0, Vec::len)
    }

    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// The values of a column, `NaN` where missing.
    pub fn column(&self, name: &str) -> Option<&[f64]> {
        let index = self.names.iter().position(|candidate| candidate == name)?;
        Some(&self.columns[index])
    }

    /// Whether every cell of the column is a number or missing.
    pub fn is_numeric(&self, name: &str) -> bool {
        self.names
            .iter()
            .position(|candidate| candidate == name)
            .is_some_and(|index| self.first_non_numeric[index].is_none())
    }

    /// The label column as booleans (`true` = bad, i.e. defaulted). Accepts 0 and 1 only.
    ///
    /// # Errors
    /// A missing column, or any cell that is not 0 or 1 (missing cells included).
    pub fn labels(&self, name: &str) -> Result<Vec<bool>, RiskError> {
        let index = self
            .names
            .iter()
            .position(|candidate| candidate == name)
            .ok_or_else(|| RiskError::MissingColumn {
                column: name.to_owned(),
            })?;
        if let Some(cell) = &self.first_non_numeric[index] {
            return Err(RiskError::InvalidLabel {
                row: cell.row,
                column: name.to_owned(),
                value: cell.text.clone(),
            });
        }
        self.columns[index]
            .iter()
            .enumerate()
            .map(|(row, &value)| {
                if value == 0.0 {
                    Ok(false)
                } else if value == 1.0 {
                    Ok(true)
                } else {
                    Err(RiskError::InvalidLabel {
                        row: row + 1,
                        column: name.to_owned(),
                        value: if value.is_nan() {
                            String::new()
                        } else {
                            value.to_string()
                        },
                    })
                }
            })
            .collect()
    }

    /// The rows at `indices`, in that order.
    pub fn select_rows(&self, indices: &[usize]) -> Table {
        Table {
            names: self.names.clone(),
            columns: self
                .columns
                .iter()
                .map(|column| indices.iter().map(|&row| column[row]).collect())
                .collect(),
            first_non_numeric: self.first_non_numeric.clone(),
        }
    }
}

enum Cell {
    Number(f64),
    Missing,
    Text,
}

const MISSING_MARKERS: [&str; 7] = ["", "na", "n/a", "nan", "null", "none", "?"];

fn parse_cell(text: &str) -> Cell {
    let text = text.trim();
    if MISSING_MARKERS
        .iter()
        .any(|marker| text.eq_ignore_ascii_case(marker))
    {
        return Cell::Missing;
    }
    match text.parse::<f64>() {
        Ok(value) if value.is_finite() => Cell::Number(value),
        _ => Cell::Text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(text: &str) -> Result<Table, RiskError> {
        Table::from_reader(text.as_bytes(), Path::new("test.csv"))
    }

    #[test]
    fn parses_numbers_missing_markers_and_text() {
        let table = table("a,b,label\n1,x,0\nNA,2.5,1\n,3,1\n").unwrap();
        assert_eq!(table.rows(), 3);
        let a = table.column("a").unwrap();
        assert_eq!(a[0], 1.0);
        assert!(a[1].is_nan() && a[2].is_nan());
        assert!(table.is_numeric("a"));
        assert!(!table.is_numeric("b"));
        assert_eq!(table.labels("label").unwrap(), vec![false, true, true]);
    }

    #[test]
    fn rejects_bad_labels_ragged_rows_and_duplicate_names() {
        let bad_label = table("a,label\n1,2\n").unwrap().labels("label");
        assert!(matches!(
            bad_label,
            Err(RiskError::InvalidLabel { row: 1, .. })
        ));
        let text_label = table("a,label\n1,yes\n").unwrap().labels("label");
        assert!(matches!(text_label, Err(RiskError::InvalidLabel { .. })));
        assert!(matches!(
            table("a,label\n1\n"),
            Err(RiskError::RaggedRow { row: 1, .. })
        ));
        assert!(matches!(
            table("a,a\n1,2\n"),
            Err(RiskError::DuplicateColumn { .. })
        ));
        assert!(matches!(
            table("a\n1\n").unwrap().labels("label"),
            Err(RiskError::MissingColumn { .. })
        ));
    }
}
