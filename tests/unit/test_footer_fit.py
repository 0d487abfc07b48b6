"""Which footer keys a narrow terminal keeps: the essential ones always, the rest while they fit."""

from __future__ import annotations

from cockpit.ui.widgets.footer import key_width, keys_that_fit


def test_a_key_takes_its_glyph_its_words_and_the_padding() -> None:
    assert key_width("q", "Quit") == len(" q ") + len("Quit ")
    assert key_width("⏎", "Open") == 3 + 5
    assert key_width("^r", "") == 4


def test_everything_shows_when_there_is_room() -> None:
    assert keys_that_fit([10, 10, 10], [True, False, True], 30) == [True, True, True]


def test_optional_keys_go_but_essential_ones_stay_even_without_room() -> None:
    assert keys_that_fit([10, 10, 10], [True, False, True], 25) == [True, False, True]
    assert keys_that_fit([10, 10, 10], [True, True, True], 5) == [True, True, True]


def test_a_later_narrower_key_takes_the_room_a_wider_one_left() -> None:
    assert keys_that_fit([10, 12, 4], [True, False, False], 16) == [True, False, True]
