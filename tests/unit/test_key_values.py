"""core/config.py's parse_key_values: the one reader of --set, --grid and --env-kwargs."""

import pytest

from actorcritic.cli import parse_env_kwargs
from actorcritic.core.config import parse_key_values, split_list
from actorcritic.errors import UserError
from actorcritic.experiments.sweep import parse_grid, parse_settings


def test_values_are_literals_or_bare_words():
    items = ["gamma=0.98", "noise=ou", "hidden-sizes=(64, 64)", " n = 3 ", "name='a,b'", "flag=True", "x=a=b"]
    assert parse_key_values(items, "--set") == {
        "gamma": 0.98,
        "noise": "ou",
        "hidden_sizes": (64, 64),
        "n": 3,
        "name": "a,b",
        "flag": True,
        "x": "a=b",
    }
    assert parse_key_values([], "--set") == {}


@pytest.mark.parametrize("item", ["tau", "tau=", "tau= ", "=1", "bad key=1", "1x=2"])
def test_malformed_items_are_one_clear_user_error(item):
    with pytest.raises(UserError) as info:
        parse_key_values([item], "--set")
    assert str(info.value) == f"--set wants key=value; got '{item}'"


def test_a_key_given_twice_is_a_user_error():
    with pytest.raises(UserError, match="--grid names 'actor_lr' twice"):
        parse_key_values(["actor-lr=1", "actor_lr=2"], "--grid")


def test_split_list_keeps_brackets_and_quotes_whole():
    assert split_list("a=(1, 2),b='x,y', c=[3,4] ,,") == ["a=(1, 2)", "b='x,y'", "c=[3,4]"]
    assert split_list("") == []


def test_the_three_flags_share_it():
    assert parse_env_kwargs("preset=small,noise=0.5,size=(3, 4)") == {"preset": "small", "noise": 0.5, "size": (3, 4)}
    assert parse_env_kwargs(None) == {} and parse_env_kwargs({"a": 1}) == {"a": 1}
    assert parse_settings(["hidden_sizes=(64, 64)", "gamma=0.9"]) == {"hidden_sizes": [64, 64], "gamma": 0.9}
    assert parse_grid(["hidden_sizes=(64,64),(8,8)", "noise=ou,normal"]) == {
        "hidden_sizes": [(64, 64), (8, 8)],
        "noise": ["ou", "normal"],
    }
    for parse, flag in ((parse_env_kwargs, "--env-kwargs"), (parse_settings, "--set"), (parse_grid, "--grid")):
        with pytest.raises(UserError, match=f"{flag} wants key=value"):
            parse("preset" if parse is parse_env_kwargs else ["preset"])
