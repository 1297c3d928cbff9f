//! L2-penalised logistic regression fitted by Newton's method (iteratively reweighted least
//! squares), with step halving so the penalised log-likelihood never gets worse.

use crate::scaling::sigmoid;

/// Most Newton iterations before giving up on convergence (the fit is still returned).
pub const NEWTON_ITERATIONS_MAX: usize = 50;
/// Convergence: the largest coefficient change of an iteration.
pub const NEWTON_TOLERANCE: f64 = 1e-8;
/// Most inputs a fit may have (the Hessian is dense).
pub const LOGISTIC_INPUTS_MAX: usize = 512;

#[derive(Debug, Clone, PartialEq)]
pub struct LogisticFit {
    pub intercept: f64,
    pub coefficients: Vec<f64>,
    pub iterations: usize,
    pub converged: bool,
}

impl LogisticFit {
    pub fn log_odds(&self, row: impl Fn(usize) -> f64) -> f64 {
        self.intercept
            + self
                .coefficients
                .iter()
                .enumerate()
                .map(|(input, coefficient)| coefficient * row(input))
                .sum::<f64>()
    }
}

/// Fits `logit P(bad) = intercept + sum of coefficient * input`; `inputs` holds one column per
/// input. `l2` penalises the coefficients (not the intercept) by `l2 / 2 * sum of squares`.
///
/// # Panics
/// If the columns differ in length from `bads`, there are more than [`LOGISTIC_INPUTS_MAX`]
/// inputs, or `l2` is negative.
pub fn fit_logistic(inputs: &[Vec<f64>], bads: &[bool], l2: f64) -> LogisticFit {
    assert!(inputs.len() <= LOGISTIC_INPUTS_MAX);
    assert!(inputs.iter().all(|column| column.len() == bads.len()));
    assert!(l2 >= 0.0 && l2.is_finite());
    let parameters = inputs.len() + 1;
    let rows = bads.len();
    let mut beta = vec![0.0; parameters];
    let bad_rate = bads.iter().filter(|&&bad| bad).count() as f64 / rows.max(1) as f64;
    beta[0] = (bad_rate.clamp(1e-6, 1.0 - 1e-6) / (1.0 - bad_rate.clamp(1e-6, 1.0 - 1e-6))).ln();
    // Row-major design matrix with a leading 1 for the intercept.
    let mut design = vec![1.0; rows * parameters];
    for (input, column) in inputs.iter().enumerate() {
        for (row, &value) in column.iter().enumerate() {
            design[row * parameters + input + 1] = value;
        }
    }
    let dot = |x: &[f64], beta: &[f64]| x.iter().zip(beta).map(|(x, b)| x * b).sum::<f64>();
    let objective = |beta: &[f64]| -> f64 {
        let mut loss = 0.0;
        for (x, &bad) in design.chunks_exact(parameters).zip(bads) {
            let eta = dot(x, beta);
            // log(1 + e^eta) - y * eta, computed stably.
            loss += eta.max(0.0) + (-eta.abs()).exp().ln_1p() - if bad { eta } else { 0.0 };
        }
        loss + 0.5 * l2 * beta[1..].iter().map(|b| b * b).sum::<f64>()
    };
    let mut current = objective(&beta);
    let mut iterations = 0;
    let mut converged = false;
    while iterations < NEWTON_ITERATIONS_MAX && !converged {
        iterations += 1;
        let mut gradient = vec![0.0; parameters];
        let mut hessian = vec![0.0; parameters * parameters];
        for (x, &bad) in design.chunks_exact(parameters).zip(bads) {
            let probability = sigmoid(dot(x, &beta));
            let residual = probability - f64::from(u8::from(bad));
            let weight = (probability * (1.0 - probability)).max(1e-12);
            for a in 0..parameters {
                gradient[a] += residual * x[a];
                let scaled = weight * x[a];
                let row = &mut hessian[a * parameters..(a + 1) * parameters];
                for (cell, &other) in row[a..].iter_mut().zip(&x[a..]) {
                    *cell += scaled * other;
                }
            }
        }
        for a in 1..parameters {
            gradient[a] += l2 * beta[a];
            hessian[a * parameters + a] += l2;
        }
        for a in 0..parameters {
            for b in 0..a {
                hessian[a * parameters + b] = hessian[b * parameters + a];
            }
        }
        let Some(step) = solve_positive_definite(&hessian, &gradient, parameters) else {
            break;
        };
        let mut scale = 1.0;
        loop {
            let candidate: Vec<f64> = beta.iter().zip(&step).map(|(b, s)| b - scale * s).collect();
            let value = objective(&candidate);
            if value <= current + 1e-12 || scale < 1e-6 {
                let change = step.iter().map(|s| (scale * s).abs()).fold(0.0, f64::max);
                converged = change < NEWTON_TOLERANCE;
                beta = candidate;
                current = value;
                break;
            }
            scale /= 2.0;
        }
    }
    assert!(
        beta.iter().all(|b| b.is_finite()),
        "coefficients are finite"
    );
    LogisticFit {
        intercept: beta[0],
        coefficients: beta[1..].to_vec(),
        iterations,
        converged,
    }
}

/// Solves `matrix * x = rhs` for a symmetric positive definite `matrix` (row-major, size
/// `n * n`) by Cholesky decomposition; `None` if the matrix is not positive definite.
pub fn solve_positive_definite(matrix: &[f64], rhs: &[f64], n: usize) -> Option<Vec<f64>> {
    assert_eq!(matrix.len(), n * n);
    assert_eq!(rhs.len(), n);
    let mut lower = vec![0.0; n * n];
    for i in 0..n {
        for j in 0..=i {
            let dot: f64 = (0..j).map(|k| lower[i * n + k] * lower[j * n + k]).sum();
            if i == j {
                let diagonal = matrix[i * n + i] - dot;
                if diagonal <= 0.0 || !diagonal.is_finite() {
                    return None;
                }
                lower[i * n + i] = diagonal.sqrt();
            } else {
                lower[i * n + j] = (matrix[i * n + j] - dot) / lower[j * n + j];
            }
        }
    }
    let mut forward = vec![0.0; n];
    for i in 0..n {
        let dot: f64 = (0..i).map(|k| lower[i * n + k] * forward[k]).sum();
        forward[i] = (rhs[i] - dot) / lower[i * n + i];
    }
    let mut solution = vec![0.0; n];
    for i in (0..n).rev() {
        let dot: f64 = (i + 1..n).map(|k| lower[k * n + i] * solution[k]).sum();
        solution[i] = (forward[i] - dot) / lower[i * n + i];
    }
    Some(solution)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cholesky_solves_a_small_system() {
        // [[4, 2], [2, 3]] x = [2, 1] has x = [0.5, 0].
        let solution = solve_positive_definite(&[4.0, 2.0, 2.0, 3.0], &[2.0, 1.0], 2).unwrap();
        assert!((solution[0] - 0.5).abs() < 1e-12 && solution[1].abs() < 1e-12);
        assert!(solve_positive_definite(&[1.0, 2.0, 2.0, 1.0], &[1.0, 1.0], 2).is_none());
    }

    #[test]
    fn recovers_the_log_odds_of_grouped_data() {
        // x = 0: 80 goods, 20 bads (log-odds ln 0.25); x = 1: 50 goods, 50 bads (log-odds 0).
        let mut x = Vec::new();
        let mut bads = Vec::new();
        for (value, goods, bad_count) in [(0.0, 80, 20), (1.0, 50, 50)] {
            for index in 0..goods + bad_count {
                x.push(value);
                bads.push(index < bad_count);
            }
        }
        let fit = fit_logistic(&[x], &bads, 0.0);
        assert!(fit.converged);
        assert!((fit.intercept - 0.25f64.ln()).abs() < 1e-6);
        assert!((fit.coefficients[0] + 0.25f64.ln()).abs() < 1e-6);
    }
}
