"""An interrupted run continues from its last checkpoint."""

from __future__ import annotations

import json

import keras
import pytest

from solutions import get_solution


class StopAfter(keras.callbacks.Callback):
    def __init__(self, epochs):
        super().__init__()
        self.epochs = epochs

    def on_epoch_end(self, epoch, logs=None):
        if epoch + 1 == self.epochs:
            raise KeyboardInterrupt


def test_resume_continues_from_the_last_checkpoint(tmp_path):
    cls = get_solution("image_classification")
    with pytest.raises(KeyboardInterrupt):
        cls(recipe="quick", epochs=4).fit("shapes", run_dir=tmp_path, progress=False, callbacks=[StopAfter(2)])
    state = json.loads((tmp_path / "checkpoints" / "state.json").read_text())
    assert state["epochs_done"] == 2
    resumed = cls(recipe="quick", epochs=4).fit("shapes", run_dir=tmp_path, resume=True, progress=False)
    assert resumed.training_.resumed_from_epoch == 2
    assert [h["epoch"] for h in resumed.training_.history] == [1, 2, 3, 4]
    # the optimizer resumed too: its step counter covers all four epochs
    steps_per_epoch = -(-len(resumed.splits_.train) // resumed.recipe_.batch_size)
    assert int(resumed.model_.optimizer.iterations) == 4 * steps_per_epoch


def test_resume_with_a_different_recipe_is_refused(tmp_path):
    from solutions.core.errors import ConfigError

    cls = get_solution("image_classification")
    with pytest.raises(KeyboardInterrupt):
        cls(recipe="quick", epochs=3).fit("shapes", run_dir=tmp_path, progress=False, callbacks=[StopAfter(1)])
    with pytest.raises(ConfigError, match="epochs: saved 3, now 5"):
        cls(recipe="quick", epochs=5).fit("shapes", run_dir=tmp_path, resume=True, progress=False)
