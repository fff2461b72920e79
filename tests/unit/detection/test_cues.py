"""Table-driven tests for the behavioural cues. Every sentence here was written for this test."""

from __future__ import annotations

import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from safeguarding.detection.cues import (
    CUE_STAGES,
    N_CUES,
    Cue,
    cue_flags,
    cue_flags_and_age,
    cue_names,
    stated_age,
)
from safeguarding.detection.features import normalise
from safeguarding.types import Stage

POSITIVE: dict[Cue, list[str]] = {
    Cue.AGE_QUESTION: [
        "how old are you?",
        "how old r u",
        "hw old ru",
        "so asl?",
        "a/s/l pls",
        "whats ur age",
        "r u over 18",
        "are you 14?",
        "what grade are you in",
        "are u a teen",
    ],
    Cue.LOCATION_QUESTION: [
        "where do you live",
        "where u from?",
        "wat city r u in",
        "which school do you go to",
        "whats ur address",
        "do you live near portland",
        "how far away are you",
        "wya",
        "where are you located",
    ],
    Cue.ALONE_QUESTION: [
        "are you home alone?",
        "r u alone",
        "is anyone else home",
        "who's home with you",
        "are your parents home",
        "when does ur mom get back",
        "are you in your bedroom",
        "u in ur room?",
        "do you have your own room",
        "does your mom check your phone",
    ],
    Cue.SECRECY: [
        "don't tell anyone about this",
        "dont tell ur mom ok",
        "this is our little secret",
        "keep this between us",
        "delete the chat after",
        "delete all our messages",
        "nobody needs to know",
        "your parents can't find out",
        "you can keep a secret right",
        "keep it on the down low",
        "promise you wont tell",
    ],
    Cue.MEETING: [
        "we should meet up sometime",
        "wanna meet this weekend?",
        "i can pick you up after school",
        "come over to my place",
        "i got a hotel room",
        "i could drive down to see you",
        "when can we meet",
        "can u sneak out tonight",
        "lets hang out irl",
        "where do you live, can i come saturday",
    ],
    Cue.OFF_PLATFORM: [
        "do you have snapchat",
        "add me on snap",
        "whats ur sc",
        "text me",
        "give me your number",
        "hmu on insta",
        "we can talk on discord",
        "lets move to whatsapp",
        "call me tonight",
        "do you have a webcam",
        "kik me",
    ],
    Cue.GIFTS: [
        "i can buy you robux",
        "want some vbucks?",
        "i'll get you a gift card",
        "i can send you money on paypal",
        "i'll buy u anything you want",
        "ill give u skins",
        "i got a present for you",
        "whats your cashapp",
        "i can pay for it",
    ],
    Cue.SEXUAL: [
        "have you ever had sex",
        "are you horny",
        "send nudes",
        "i want to see your boobs",
        "have you ever made out with someone",
        "what are you wearing",
        "take your shirt off",
        "ever touched yourself",
        "u make me so hard",
        "r u a virgin",
        "wanna hook up",
    ],
    Cue.PHOTO_REQUEST: [
        "send me a pic",
        "send me a cute pic",
        "can i see a picture of you",
        "show me ur body",
        "got any pics?",
        "pic?",
        "turn on your cam",
        "lemme see you",
        "take a selfie for me",
        "what do you look like",
    ],
    Cue.COMPLIMENT: [
        "you're so cute",
        "ur pretty",
        "you look beautiful",
        "u r so hot",
        "ur sexy",
        "youre gorgeous",
        "you're really pretty!",
        "nice smile",
        "you look amazing",
    ],
    Cue.AFFECTION: [
        "i love you",
        "luv u",
        "i miss you so much",
        "you're so special",
        "you're my girl",
        "night babe",
        "ily <3",
        "you can trust me",
        "i think about you all the time",
        "be my girlfriend",
    ],
    Cue.MATURITY: [
        "you're so mature for your age",
        "age is just a number",
        "age doesnt matter",
        "i dont care how old you are",
        "you seem older",
        "you're not like other girls",
        "do you like older guys",
    ],
    Cue.CONTROL: [
        "you have to do it",
        "do it or else",
        "if you don't send it i'll tell everyone",
        "i'll post your pics",
        "you owe me",
        "i'll show your parents",
        "answer me now",
        "last chance",
        "if you really loved me you would",
        "you promised",
    ],
    Cue.ISOLATION: [
        "they don't understand you",
        "nobody understands you like i do",
        "only i really get you",
        "your parents are so strict",
        "ur friends are fake",
        "you don't need them",
        "they're just jealous",
    ],
    Cue.MINOR_SELF: [
        "im 13",
        "13 f",
        "14/f/tx",
        "i'm in 8th grade",
        "my mom wont let me",
        "i'm grounded",
        "i am fourteen",
        "im only 12 lol",
        "i'm a freshman in high school",
    ],
    Cue.ADULT_SELF: [
        "im 35",
        "i am 50 years old",
        "my wife is asleep",
        "just got off work",
        "my boss is annoying",
        "i'm a 40 year old guy",
        "asl? 28 m",
    ],
    Cue.PARENT_MENTION: ["my mom is cooking", "ask your dad", "my parents are out", "my stepdad"],
    Cue.QUESTION: ["how was school", "you there?", "what's up", "are you ok", "lol really? :)"],
    Cue.SCHOOL: ["i have so much homework", "my teacher is mean", "school was boring", "what grade r u in"],
}

NEGATIVE: dict[Cue, list[str]] = {
    Cue.AGE_QUESTION: ["this game is old", "i'm getting old", "how old is this map", "the age of empires"],
    Cue.LOCATION_QUESTION: ["i live in a small town", "where is the sword in this level", "far out man"],
    Cue.ALONE_QUESTION: ["i was alone at lunch", "my room is a mess", "who is the best player"],
    Cue.SECRECY: ["tell me a joke", "i'll tell you later", "let me know", "keep going", "delete that level"],
    Cue.MEETING: [
        "nice to meet you",
        "we need to meet the deadline",
        "come on, you can do it",
        "i'll come back later",
        "see you in class",
    ],
    Cue.OFF_PLATFORM: [
        "add me to the group project",
        "send me the homework",
        "i'm taking a nap",
        "oh snap",
        "the number of players",
        "call of duty",
    ],
    Cue.GIFTS: [
        "i bought a new game",
        "i have no money",
        "give me a second",
        "get you next round",
        "my skin is dry",
    ],
    Cue.SEXUAL: [
        "this level is so hard",
        "the bed is comfy",
        "turn on the light",
        "i feel you",
        "you suck at this game",
        "take off your shoes",
    ],
    Cue.PHOTO_REQUEST: [
        "show me how to do it",
        "let me see if i can",
        "i took a picture of my dog",
        "that video was funny",
    ],
    Cue.COMPLIMENT: [
        "that's pretty good",
        "it's so hot outside",
        "pretty sure it's tomorrow",
        "hot chocolate",
        "fine thanks",
    ],
    Cue.AFFECTION: [
        "i love pizza",
        "i miss the old map",
        "my dog is special",
        "i need you to pass the ball",
        "this is a special edition",
    ],
    Cue.MATURITY: ["the cheese is mature", "what age rating is the game", "older versions were better"],
    Cue.CONTROL: [
        "i'll tell you later",
        "i'll show you the trick",
        "you have a nice day",
        "what did you say",
        "can you help",
    ],
    Cue.ISOLATION: ["they understand the rules", "my friends are coming over", "only one left"],
    Cue.MINOR_SELF: [
        "i'm 5 minutes away",
        "im 2 tired",
        "i'm 10 min late",
        "my brother is 14 years old",
        "i'm 6 ft tall",
    ],
    Cue.ADULT_SELF: ["i work out", "my homework", "the office tv show"],
    Cue.PARENT_MENTION: ["motherboard", "hello"],
    Cue.QUESTION: ["ok", "i know what you did", "lol"],
    Cue.SCHOOL: ["nice weather"],
}


def _cases(table: dict[Cue, list[str]]) -> list[tuple[Cue, str]]:
    return [(cue, text) for cue, texts in table.items() for text in texts]


@pytest.mark.parametrize(("cue", "text"), _cases(POSITIVE))
def test_cue_fires(cue: Cue, text: str) -> None:
    assert cue_flags(text) & cue, f"{cue.name} should fire on {text!r}"


@pytest.mark.parametrize(("cue", "text"), _cases(NEGATIVE))
def test_cue_does_not_fire(cue: Cue, text: str) -> None:
    assert not cue_flags(text) & cue, f"{cue.name} should not fire on {text!r}"


@pytest.mark.parametrize(
    ("text", "age"),
    [
        ("im 13", 13),
        ("i am 50 years old", 50),
        ("13 f", 13),
        ("14/f/tx", 14),
        ("asl? 15 m cali", 15),
        ("i'm only 12", 12),
        ("I’m 16 lol", 16),
        ("im fifteen", 15),
        ("hey 14 f here", 14),
        ("f/16", 16),
        ("im turning 14 next week", 14),
        ("13 mins", None),
        ("at 5", None),
        ("2 of them", None),
        ("i'm 5 minutes away", None),
        ("my sister is 12 years old", None),
        ("when i was 12", None),
        ("meet at 10", None),
        ("i scored 99 points", None),
        ("i'm 6'2", None),
        ("im 100% sure", None),
        ("brb 10m", None),
        ("", None),
    ],
)
def test_stated_age(text: str, age: int | None) -> None:
    assert stated_age(text) == age


def test_cue_layout_is_contiguous() -> None:
    assert [int(c) for c in Cue] == [1 << i for i in range(N_CUES)]
    assert len(cue_names()) == N_CUES
    assert cue_names()[0] == "age_question"


def test_cue_stages_cover_every_stage() -> None:
    assert set(CUE_STAGES.values()) == set(Stage)


@pytest.mark.parametrize(
    "text",
    [
        "",
        " ",
        "\x00\x01\x1f",
        "😀😀😀",
        "ДОБРЫЙ ДЕНЬ",
        "你好吗",
        "?" * 5000,
        "a" * 1_000_000,
        "\ud800 lone surrogate",
    ],
)
def test_odd_input_never_crashes(text: str) -> None:
    assert isinstance(cue_flags(text), int)
    assert stated_age(text) is None or 5 <= (stated_age(text) or 0) <= 99


@given(st.text(max_size=80))
def test_normalise_folds_typographic_apostrophes(text: str) -> None:
    """Cues and hashed features share ``features.normalise``, which folds typographic apostrophes."""
    assert "\u2019" not in normalise(text) and "\u2018" not in normalise(text)


@given(st.text(max_size=200))
def test_any_text_gives_valid_flags(text: str) -> None:
    flags = cue_flags(text)
    assert 0 <= flags < 1 << N_CUES
    age = stated_age(text)
    assert age is None or 5 <= age <= 99
    assert cue_flags_and_age(text) == (flags, age)


@pytest.mark.parametrize("text", ["im 13 f", "i am 50 years old", "how old r u", "im fifteen", ""])
def test_one_pass_matches_separate_calls(text: str) -> None:
    assert cue_flags_and_age(text) == (cue_flags(text), stated_age(text))


def test_look_alikes_keep_their_acts() -> None:
    """Benign look-alikes still show the act (the conversation model weighs the context)."""
    assert cue_flags("don't tell mom about the surprise party") & Cue.SECRECY
    assert cue_flags("see you at the mall after school") & Cue.MINOR_SELF


def test_micro_timing_report(capsys: pytest.CaptureFixture[str]) -> None:
    """Prints the CPU time per message; not asserted (machines differ)."""
    msgs = [
        "hey how was ur day? mine was kinda boring tbh lol",
        "haha yeah i saw that video, it was so funny omg",
        "r u home alone rn? dont tell ur mom we talk ok",
        "i can buy you robux if u send me a pic of u",
    ]
    for m in msgs:
        cue_flags(m)
    n = 20_000
    t0 = time.process_time()
    for i in range(n):
        cue_flags(msgs[i & 3])
    per = (time.process_time() - t0) / n * 1e6
    with capsys.disabled():
        print(f"\ncue_flags: {per:.2f} µs per message")
