"""The recipe's `monitor`: which validation figure early stopping watches and whose best epoch is kept."""

import json

import pytest

from solutions.cli import main
from solutions.core.errors import ConfigError
from solutions.core.training import Monitor
from solutions.credit_scoring import CreditScoringSolution


def test_losses_are_better_lower_and_other_figures_higher():
    history = [{"epoch": 1, "val_loss": 0.6, "val_auc": 0.70}, {"epoch": 2, "val_loss": 0.5, "val_auc": 0.80},
               {"epoch": 3, "val_loss": 0.4, "val_auc": 0.75}]
    assert (Monitor("val_loss").mode, Monitor("val_auc").mode) == ("min", "max")
    assert Monitor("val_loss").best_epoch(history) == 3
    assert Monitor("val_auc").best_epoch(history) == 2
    assert Monitor("val_auc").best_epoch([{"epoch": 1}, {"epoch": 2}]) == 1  # nothing logged: the first epoch


def test_an_unlogged_figure_names_the_logged_ones():
    with pytest.raises(ConfigError, match=r"'val_gini'.*val_auc, val_loss.*--set monitor="):
        Monitor("val_gini").value({"loss": 0.5, "val_loss": 0.6, "val_auc": 0.7})


def test_the_kept_weights_are_those_of_the_best_monitored_epoch(tmp_path):
    solution = CreditScoringSolution("quick", epochs=6, learning_rate=0.05, monitor="val_auc").fit(
        "applicants", run_dir=tmp_path, progress=False)
    history = solution.training_.history
    best = max(history, key=lambda h: h["val_auc"])
    assert solution.training_.best_epoch == best["epoch"]
    val = solution.make_dataset(solution.splits_.val, solution.schema_, solution.recipe_, training=False)
    assert solution.model_.evaluate(val, verbose=0, return_dict=True)["auc"] == pytest.approx(best["val_auc"], abs=1e-6)
    state = json.loads((tmp_path / "checkpoints" / "state.json").read_text())
    assert state["monitor"] == "val_auc" and state["best"] == pytest.approx(best["val_auc"])


def test_monitor_must_be_a_validation_figure(capsys):
    code = main(["train", "credit_scoring", "--data", "applicants", "--recipe", "quick", "--set", "monitor=auc"])
    err = capsys.readouterr().err
    assert code == 2 and "monitor" in err and "val_" in err and "Traceback" not in err


def test_an_unlogged_monitor_on_the_command_line_exits_2_with_the_logged_figures(tmp_path, capsys):
    code = main(["train", "credit_scoring", "--data", "applicants", "--recipe", "quick", "--set", "epochs=2",
                 "--set", "monitor=val_gini", "--out", str(tmp_path / "run")])
    err = capsys.readouterr().err
    assert code == 2 and "val_gini" in err and "val_auc, val_loss" in err and "Traceback" not in err
    assert not (tmp_path / "run" / "model.keras").exists()
