use clap::Parser;
use treatfirst_risk::{run_with_output, Model, RiskCommand};

use crate::generated::{history_csv, LABEL};

#[derive(Debug, Parser)]
struct Arguments {
    #[command(subcommand)]
    command: RiskCommand,
}

fn parse(arguments: &[&str]) -> RiskCommand {
    Arguments::try_parse_from(std::iter::once("risk").chain(arguments.iter().copied()))
        .expect("arguments parse")
        .command
}

fn run(command: RiskCommand) -> String {
    let mut out = Vec::new();
    run_with_output(command, &mut out).expect("the command succeeds");
    String::from_utf8(out).expect("UTF-8 output")
}

fn value(output: &str, key: &str) -> f64 {
    output
        .lines()
        .find_map(|line| line.strip_prefix(&format!("{key}=")))
        .unwrap_or_else(|| panic!("no {key}= line in\n{output}"))
        .split_whitespace()
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

#[test]
fn train_eval_and_psi_print_their_reports() {
    let directory = tempfile::tempdir().unwrap();
    let data = directory.path().join("history.csv");
    std::fs::write(&data, history_csv(3000, 21)).unwrap();
    let model_path = directory.path().join("model.json");
    let data_text = data.to_str().unwrap();
    let model_text = model_path.to_str().unwrap();

    let command = parse(&[
        "train",
        "--data",
        data_text,
        "--label",
        LABEL,
        "--exclude",
        "noise,AGE",
        "--holdout",
        "0.3",
        "--seed",
        "4",
        "--out",
        model_text,
    ]);
    let output = run(command);
    for key in ["auc", "ks", "brier", "ece"] {
        let number = value(&output, key);
        assert!((0.0..=1.0).contains(&number), "{key}={number}");
    }
    assert!(value(&output, "auc") > 0.7);
    assert!(output.contains("refused column SEX (protected characteristic)"));
    assert!(output.contains("refused column ID (identifier)"));
    assert!(output.contains("excluded by --exclude: AGE, noise"));
    assert!(output.contains("calibration by decile"));
    assert!(output.contains("information value per feature"));
    assert!(output.contains("challenger woe_scorecard"));
    let model = Model::from_json(&std::fs::read_to_string(&model_path).unwrap()).unwrap();
    assert_eq!(model.training().seed, 4);

    let output = run(parse(&[
        "eval", "--model", model_text, "--data", data_text, "--label", LABEL,
    ]));
    assert!(value(&output, "auc") > 0.7);
    assert!(value(&output, "ece") < 0.1);
    assert!(output.contains("PAY_0"));

    let output = run(parse(&["psi", "--model", model_text, "--data", data_text]));
    assert!(value(&output, "psi_score") < 0.1, "same population: stable");
    assert!(output.contains("psi PAY_0="));

    // A shifted population: every patient three months late.
    let shifted: String = history_csv(1000, 22)
        .lines()
        .enumerate()
        .map(|(index, line)| {
            if index == 0 {
                format!("{line}\n")
            } else {
                let mut fields: Vec<&str> = line.split(',').collect();
                fields[4] = "3";
                format!("{}\n", fields.join(","))
            }
        })
        .collect();
    let shifted_path = directory.path().join("shifted.csv");
    std::fs::write(&shifted_path, shifted).unwrap();
    let output = run(parse(&[
        "psi",
        "--model",
        model_text,
        "--data",
        shifted_path.to_str().unwrap(),
    ]));
    assert!(value(&output, "psi_score") > 0.25, "{output}");
}

#[test]
fn exclude_takes_a_comma_separated_list_and_defaults_apply() {
    let command = parse(&[
        "train",
        "--data",
        "d.csv",
        "--label",
        "y",
        "--exclude",
        "a,b",
        "--out",
        "m.json",
    ]);
    let RiskCommand::Train {
        exclude,
        holdout,
        seed,
        ..
    } = command
    else {
        panic!("a train command");
    };
    assert_eq!(exclude, vec!["a", "b"]);
    assert_eq!(holdout, 0.3);
    assert_eq!(seed, 1);
}
