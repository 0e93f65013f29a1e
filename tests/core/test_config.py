import pytest

from solutions.core.config import Recipe, load_recipe, make_recipe, parse_overrides
from solutions.core.errors import ConfigError
from solutions.image_classification.recipe import ImageClassificationRecipe


def test_unknown_key_is_rejected_with_the_closest_key():
    with pytest.raises(ConfigError, match='"epohcs" Did you mean "epochs"'):
        load_recipe(Recipe, "default", ["epohcs=3"])


def test_unknown_preset_lists_presets_and_suggests():
    with pytest.raises(ConfigError, match=r"Unknown preset 'quik'.*quick.*Did you mean \"quick\""):
        load_recipe(Recipe, "quik")


def test_overrides_are_coerced_to_field_types():
    recipe = load_recipe(ImageClassificationRecipe, "quick", ["epochs=3", "image_size=[48, 40]", "weights=null", "dropout=0.2"])
    assert recipe.epochs == 3 and recipe.image_size == (48, 40) and recipe.weights is None and recipe.dropout == 0.2


@pytest.mark.parametrize("pair, message", [
    ("epochs=2.5", "must be an integer"),
    ("epochs=0", "epochs=0"),
    ("lr_schedule=linear", "must be one of 'constant', 'cosine', 'one_cycle'"),
    ("augment=true", "must be one of"),
    ("learning_rate=fast", "must be a number"),
])
def test_bad_values_name_the_key_and_the_received_value(pair, message):
    with pytest.raises(ConfigError, match=message):
        load_recipe(ImageClassificationRecipe, "default", [pair])


def test_recipe_file_starts_from_its_preset_and_overrides_win(tmp_path):
    path = tmp_path / "recipe.yaml"
    path.write_text("preset: quick\nepochs: 4\n")
    assert load_recipe(ImageClassificationRecipe, str(path)).depth == 8
    assert load_recipe(ImageClassificationRecipe, str(path), {"epochs": 7}).epochs == 7


def test_recipe_file_with_unknown_key_names_the_file(tmp_path):
    path = tmp_path / "recipe.yaml"
    path.write_text("bach_size: 4\n")
    with pytest.raises(ConfigError, match=r"recipe file .*recipe.yaml.*Did you mean \"batch_size\""):
        load_recipe(ImageClassificationRecipe, str(path))


def test_presets_differ_from_default_and_are_frozen():
    quick = make_recipe(ImageClassificationRecipe, "quick")
    assert quick.epochs < make_recipe(ImageClassificationRecipe, "default").epochs
    with pytest.raises(Exception):
        quick.epochs = 3  # frozen dataclass


def test_malformed_override_explains_the_form():
    with pytest.raises(ConfigError, match="key=value"):
        parse_overrides(["epochs"])


def test_freeze_epochs_only_constrains_transfer_learning_with_weights():
    assert make_recipe(ImageClassificationRecipe, "default", epochs=1).epochs == 1
    with pytest.raises(ConfigError, match="freeze_epochs"):
        make_recipe(ImageClassificationRecipe, "default", epochs=1, model="transfer", weights="w.h5")
