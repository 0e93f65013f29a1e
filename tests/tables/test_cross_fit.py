"""Cross-fitted members (tables.cross_fit): each member trains on all folds but its own and scores that one."""

import numpy as np
import pytest

keras = pytest.importorskip("keras")

from solutions.cli import main  # noqa: E402
from solutions.core import metrics as M  # noqa: E402
from solutions.core.errors import DataError  # noqa: E402
from solutions.credit_scoring import CreditScoringSolution  # noqa: E402
from solutions.tables.cross_fit import fold_of_rows, member_targets  # noqa: E402
from solutions.tables.ensemble import MemberLoss, MemberMeanAUC, build_network, member_scores  # noqa: E402
from tests.tables.test_ensemble import SCHEMA, member, rows  # noqa: E402


def test_folds_are_stratified_and_too_few_of_a_class_is_named():
    y = np.array([1] * 6 + [0] * 30)
    fold = fold_of_rows(y, 3, seed=0)
    assert sorted(np.bincount(fold).tolist()) == [12, 12, 12]
    assert all(y[fold == k].sum() == 2 for k in range(3))  # each fold holds its share of the rare class
    with pytest.raises(DataError, match=r"7 folds .* only 6 rows .* at most 6"):
        fold_of_rows(y, 7, seed=0)


def test_a_member_learns_nothing_from_the_rows_it_holds_out():
    import tensorflow as tf

    keras.utils.set_random_seed(0)
    training = build_network(SCHEMA, member, 3, "m")
    _, tensors = rows()
    # Rows 1 and 3 are member 1's held-out fold: its cells are -1 there; row 2 trains every member.
    targets = tf.constant([[-1.0, 1.0, 1.0], [0.0, 0.0, 0.0], [-1.0, 1.0, 1.0]])
    first_head = training.get_layer("member_heads").get_layer("member_1_head").trainable_weights
    with tf.GradientTape(persistent=True) as tape:
        scores = training(tensors)
        masked = MemberLoss(keras.losses.BinaryCrossentropy())(targets, scores)
        only_row_2 = keras.losses.BinaryCrossentropy()(targets[1:2, :1], scores[1:2, :1])
    for together, alone in zip(tape.gradient(masked, first_head), tape.gradient(only_row_2, first_head)):
        # mean over 3 rows of the mean over row 2's 3 members: the one cell member 1 learns from, weighted 1/9
        assert np.abs(alone.numpy()).sum() > 0 and np.allclose(together.numpy() * 9, alone.numpy(), atol=1e-6)


def test_masked_loss_without_masks_is_the_mean_member_loss():
    y = np.array([[1.0], [0.0]], np.float32)
    p = np.array([[0.9, 0.6], [0.2, 0.7]], np.float32)
    expected = -np.mean([np.mean([np.log(0.9), np.log(0.6)]), np.mean([np.log(0.8), np.log(0.3)])])
    assert float(MemberLoss(keras.losses.BinaryCrossentropy())(y, p)) == pytest.approx(expected, rel=1e-4)


def test_auc_ranks_each_row_by_the_members_that_score_it():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 200)
    fold = rng.integers(0, 3, 200)
    p = rng.random((200, 3)).astype(np.float32)
    metric = MemberMeanAUC(num_thresholds=20_001)
    metric.update_state(member_targets(y, fold, 3, held_out=True), p)
    out_of_fold = p[np.arange(200), fold]
    assert float(metric.result()) == pytest.approx(M.roc_auc(y, out_of_fold), abs=1e-3)
    assert abs(M.roc_auc(y, p.mean(axis=1)) - M.roc_auc(y, out_of_fold)) > 0.01  # the mean of all would differ


@pytest.fixture(scope="module")
def cross_fitted():
    return CreditScoringSolution("quick", members=3, cross_fit=True, epochs=3).fit("applicants", progress=False)


def test_validation_pools_the_rows_and_is_scored_out_of_fold(cross_fitted):
    splits = cross_fitted.splits_
    assert list(splits.train.ids) == list(splits.val.ids)  # training and validation rows pooled
    assert (splits.val.targets >= 0).sum(axis=1).tolist() == [1] * len(splits.val)
    assert (splits.train.targets >= 0).sum(axis=1).tolist() == [2] * len(splits.train)
    assert not set(splits.test.ids) & set(splits.val.ids)
    assert any("cross-fitted members" in note for note in splits.notes)
    held_out = cross_fitted.held_out_model_scores(splits.val)[:, 0]
    members = member_scores(cross_fitted.model_, cross_fitted.inputs(splits.val.x))
    assert np.allclose(held_out, members[np.arange(len(held_out)), (splits.val.targets >= 0).argmax(axis=1)], atol=1e-5)
    in_sample = cross_fitted.model_scores(splits.val.x)[:, 0]
    assert not np.allclose(held_out, in_sample, atol=1e-3)  # the saved model has seen every pooled row
    metric, value = cross_fitted.validation_score()
    assert metric == "auc" and value == pytest.approx(M.roc_auc(splits.val.y, held_out), abs=1e-6)


def test_calibration_is_fitted_on_the_out_of_fold_scores(cross_fitted):
    from solutions.credit_scoring.calibration import fit_calibration

    val = cross_fitted.splits_.val
    fitted = fit_calibration("platt", cross_fitted.held_out_model_scores(val)[:, 0], val.y)
    assert cross_fitted.decision_.details["calibration"] == pytest.approx(fitted)


@pytest.mark.parametrize("options, message", [
    (["--set", "members=1", "--set", "cross_fit=true"], "cross_fit"),
    (["--set", "network=tabm", "--set", "members=1", "--set", "cross_fit=true"], "members >= 2 and network=mlp"),
])
def test_cross_fit_without_members_exits_2(tmp_path, capsys, options, message):
    code = main(["--quiet", "train", "credit_scoring", "--data", "applicants", "--recipe", "quick", *options,
                 "--out", str(tmp_path / "run")])
    err = capsys.readouterr().err
    assert code == 2 and message in err and "Traceback" not in err
    assert not (tmp_path / "run").exists()


def test_cross_fit_with_a_time_split_exits_2(tmp_path, capsys):
    from solutions.fraud_detection.data import make_transactions

    make_transactions(n=400, seed=0).to_csv(tmp_path / "claims.csv", index=False)
    code = main(["--quiet", "train", "fraud_detection", "--data", str(tmp_path / "claims.csv"), "--label", "is_fraud", "--time", "day",
                 "--recipe", "quick", "--set", "network=mlp", "--set", "numeric_embedding=none", "--set", "members=2",
                 "--set", "imbalance=none",
                 "--set", "cross_fit=true", "--out", str(tmp_path / "run")])
    err = capsys.readouterr().err
    assert code == 2 and "split by time ('day')" in err and "cross_fit=false" in err and "Traceback" not in err


def test_the_default_gives_way_to_a_class_too_small_for_one_row_per_fold():
    from solutions.credit_scoring.data import make_applicants

    frame = make_applicants(n=400, seed=0)
    bad = frame.index[frame["credit_risk"] == "bad"]
    small = frame.drop(bad[9:]).reset_index(drop=True)  # 9 bad applicants: fewer than 10 in training and validation
    solution = CreditScoringSolution("default", epochs=1)
    recipe = solution.resolve_recipe()
    assert recipe.members == 10 and recipe.cross_fit is None
    from solutions.core.datasets import DataSource

    source = DataSource(spec="small", name="small", config={"label": "credit_risk"})
    solution.read_frame = lambda source, recipe: small.copy()
    splits = solution.split(solution.load_examples(source, recipe, None), recipe)
    assert splits.train.targets is None and any("not cross-fitted" in note for note in splits.notes)
