"""Phrase banks for the synthetic chat generator, and how a template becomes a typed chat line.

Templates: ``[a|b|]`` picks one (empty allowed, nestable); ``{slot}`` comes from the conversation's context or
from ``SLOTS``; ``"line => answer"`` pairs a line with the answer the next reply uses. ``{me}``/``{them}`` are
first names and ``{myage}``/``{theirage}`` ages in years; ``{kid}``, ``{friend}``, ``{pr}``/``{po}``/``{prs}``
(a third person's pronouns), ``{year}``, ``{claimed}``, ``{handle}`` and ``{myhandle}`` are set by the
builders in :mod:`safeguarding.synth.conversations`.

All of it is the project's own writing. The hand-written look-alike dev set in ``benchmarks/data`` uses
deliberately different wording, so that scoring on it says something about generalisation.
"""

from __future__ import annotations

import random
import re
from collections.abc import Mapping
from dataclasses import dataclass

EMOJI: tuple[str, ...] = (
    "😂",
    "😭",
    "💀",
    "🔥",
    "👍",
    "🙌",
    "😅",
    "🤣",
    "❤️",
    "😊",
    "👀",
    "🙃",
    "😎",
    "🥲",
    "✨",
)

FIRST_NAMES: tuple[str, ...] = (
    "Alex", "Sam", "Jordan", "Riley", "Casey", "Maya", "Leo", "Zara", "Noah", "Amira", "Finn", "Isla", "Kai",
    "Ruby", "Theo", "Priya", "Oscar", "Lily", "Ethan", "Chloe", "Aiden", "Mia", "Jayden", "Ella", "Max",
    "Aisha", "Harvey", "Freya", "Dylan", "Sofia", "Reuben", "Hana", "Callum", "Tia", "Marcus", "Grace",
    "Rohan", "Evie", "Tyler", "Nia", "Owen", "Layla", "Luca", "Poppy", "Ben", "Jess", "Kian", "Megan",
)  # fmt: skip
SURNAMES: tuple[str, ...] = ("Patel", "Green", "Okafor", "Davies", "Hughes", "Novak", "Byrne", "Khan", "Reid")
GAMES: tuple[tuple[str, str, str], ...] = (
    ("Roblox", "robux", "[the neon unicorn|a shadow dragon|the headless thing|korblox]"),
    ("Fortnite", "vbucks", "[renegade raider|the galaxy skin|black knight|that new emote]"),
    ("Valorant", "VP", "[the reaver vandal|a prime phantom|the knife skin]"),
    ("Minecraft", "minecoins", "[the dragon cape|a skin pack|the realms sub]"),
    ("Apex", "apex coins", "[the wraith heirloom|a legendary skin]"),
    ("Genshin", "primos", "[welkin|a 5 star pull]"),
)
SLOTS: dict[str, tuple[str, ...]] = {
    "handle_pattern": (
        "{n}{d}", "{n}_{i}", "{n}.{i}{d}", "xx{n}xx", "{n}_[gg|fn|rbx|ttv|x|irl]", "[the|its|lil|not]{n}{d}",
        "{n}[_|.][moon|star|wolf|cat|boi|gal|vibes|07]", "{i}{n}[_|]{d}",
    ),
    "formal_handle_pattern": ("{n}.{i}", "{n}_{i}{d}", "{n}{i}{d}", "{n}.{i}[_work|_home|]", "{i}{n}"),
    "place": (
        "the mall", "westfield", "the park", "the library", "the cinema", "mcdonalds", "the skate park",
        "town", "the bus station", "costa", "the leisure centre", "nandos", "the arcade", "primark",
    ),
    "app": ("snap", "snapchat", "insta", "discord", "whatsapp", "telegram", "kik"),
    "subject": ("maths", "science", "history", "french", "english", "geography", "biology", "chemistry"),
    "day": ("saturday", "sunday", "friday", "tomorrow", "monday", "the weekend"),
    "time": ("4", "half 3", "5:30", "7", "after school", "12", "2pm", "6ish"),
    "artist": (
        "billie eilish", "taylor swift", "olivia rodrigo", "central cee", "sza", "stormzy", "doja cat",
    ),
    "sport": ("football", "netball", "basketball", "swimming", "rugby", "hockey", "tennis"),
    "teacher": ("mr patel", "ms green", "mrs okafor", "mr davies", "miss hughes", "sir"),
    "town": ("leeds", "bristol", "croydon", "cardiff", "reading", "norwich", "derby", "slough", "hull"),
    "emo": EMOJI,
}  # fmt: skip
BANKS: dict[str, tuple[str, ...]] = {
    # ---- everyday openers and closers, shared by all kinds
    "hi": (
        "[hey|hi|heyy|hiya|yo|sup|hello] [{them}|][!||:)]", "[oi|ayy|hey] [u there|you about|hello?]",
        "[hey hey|hiii] [{them}|]",
    ),
    "hi_r": (
        "[hey|hi|yo|heyy|hiii][!|]", "[hey|hi] [whats up|wassup|wagwan]", "[sup|hey] [lol|]",
        "[ya|yeah] im here",
    ),
    "how": (
        "how [are you|r u|was your day|was school][?|]"
        " => [good|ok|fine|not bad|tired|dead] [u?|hbu|wbu|and you?|]",
        "[wyd|what you up to]", "you good?",
    ),
    "how_r": (
        "[good|ok|fine|not bad|tired|bored] [u?|hbu|wbu|]",
        "[just got home|chilling|doing homework|eating|watching tv|in bed] [lol|]",
    ),
    "bye": (
        "[gtg|got to go|g2g] [my mum's calling|dinner|bye|ttyl|]", "[cya|see ya|laters|night|gn] [{them}|]",
    ),
    "bye_r": ("[bye|cya|night|later|kk bye|ttyl|peace]", "[ok|okay] [see ya|bye] [{them}|]"),
    "filler": (
        "lol", "haha", "[lmao|lmaooo|💀]", "[fr|true|facts|real]", "{emo}", "[wait|hold on|brb]",
        "[same|mood]",
    ),
    # ---- friends: school, games, music, sport, plans
    "school": (
        "did you do the {subject} [homework|hw] [yet|]?"
        " => [nah|no|not yet|yeah] [its so hard|i forgot|can i copy|]",
        "{teacher} gave us a [detention|pop quiz|test] today [lol|smh|] => [no way|omg|rip] [lol|]",
        "[are|r] you going to {friend}'s [thing|party|sleepover] {day}?"
        " => [maybe|yeah|idk] [my mum might say no|]",
        "[i|we] got [moved|put] next to {friend} in {subject}",
    ),
    "school_r": ("[no way|omg|rip|lucky] [lol|]", "[same|ugh] [lol|]"),
    "games": (
        "you on {game} [later|tonight|rn]? => [yeah|ya|maybe] [after dinner|at 7|in a bit|]",
        "[i|we] [finally|just] [hit|got] [diamond|level 50|a win] in {game}"
        " => [no way|nice|sick|W] [send a pic|screenshot or it didnt happen|]",
        "[got|bought] a new [controller|headset|skin] [today|]",
        "[that|the] update is [so bad|actually good|broken]",
    ),
    "games_r": ("[nice|sick|W] [lol|]", "[fr|true] [lol|]", "[no way|ok] [send a pic|]"),
    "music": (
        "have you heard the new {artist} [song|album]?"
        " => [yes|ya|obviously] [its|it's] [so good|mid|a banger|on repeat]",
        "[going to|got tickets for] {artist} [in june|next month] => [jealous|no wayyy|take me]",
        "[this|that] {artist} song is stuck in my head [help|]",
    ),
    "music_r": ("[same|lol same]", "[send|drop] me the [link|playlist]", "[its|it's] [so good|mid|a banger]"),
    "sport": (
        "[training|practice] [was brutal|got cancelled|is at {time}]",
        "[did you|u] see the [match|game] [last night|]? => [nah|yeah] [i missed it|what a game]",
        "[we|i] scored [twice|a screamer|the winner] in {sport} [today|] => [nice|sick|legend] [lol|]",
    ),
    "sport_r": ("[nice|sick|legend] [lol|]", "[ugh|same] my legs are dead", "[rip|lol]"),
    "plans": (
        "wanna [go to|hang at] {place} {day}? => [ok|bet|yeah|sure] [see you there|lol|]",
        "[is|are] {friend} coming [too|]? => [idk|think so|prob not] [lol|]",
        "[meet|i'll meet you] at {place} at {time}? => [{time} works|cant til later|ok]",
    ),
    "plans_r": (
        "[ok|bet|yeah|sure] [lol|]", "[cant|can't] {day} [my mum said no|i have practice]",
        "[maybe|prob] [ill ask|]",
    ),
    # ---- family logistics (parent formal, child casual)
    "fam_p": (
        "[Can you|Could you] [pick up|grab] [milk|bread|your sister] on the way home?",
        "What time does [practice|club|rehearsal] finish? => [5:30|6|half 5] i think",
        "I'll [pick you up|be outside] at {time}", "Don't forget your [PE kit|lunch money|key|charger]",
        "Text me when you get to {friend}'s => [ok|k] [will do|]",
        "[Send me|Take] a [pic|photo] of the [letter|permission slip] so I can sign it"
        " => [ok|k] [sent|one sec]",
        "Dinner's at [6|7|half 6]", "Grandma's coming [Sunday|on {day}], [tidy your room|be nice to her]",
    ),
    "fam_p_r": ("[ok|k|yep|fine] [mum|mom|dad|]", "[yeah|ok] [will do|]", "[ugh|fine] [ok|]"),
    "fam_k": (
        "can i [go to|sleep over at] {friend}'s [after school|{day}|tonight]?",
        "i forgot my key => [OK|Right], I'll be home by [6|half 5]",
        "my phone is on 5% => [Charge it|OK, call me from {friend}'s]",
        "im at {place} => OK, text me when you leave",
        "[can you|could you] [pick me up|get me] at {time}? => [Yes|OK], see you at {time}",
        "[whats|what's] for dinner => [Pasta|Curry|Leftovers]",
    ),
    "fam_k_r": (
        "[Yes|OK|Fine], [but|as long as you're] back by 9", "[Only if|If] your homework is done", "On my way",
        "Ask your dad",
    ),
    # ---- coach or teacher, parents in the loop (three-way chat)
    "coach": (
        "Hi {kid}, [training|practice] [moved to|is now at] {time} on {day}. [I've let your mum"
        " know|I've emailed your parents] too",
        "[Reminder|Quick reminder]: bring [shin pads|a water bottle|your kit] on {day}",
        "[How old are you now|What age are you now], {kid}? It's for the [league form|tournament form]"
        " => [{myage}|im {myage}|{myage} coach]",
        "[Great effort|Well done] today {kid}, [your first touch is coming on|keep it up]",
        "We'll meet at the {place} car park at [8|9|half 8], parents drive",
    ),
    "teacher": (
        "Hi {kid}, the {subject} test is on {day}. [Revise chapters 3 and 4|Bring a calculator]",
        "[I've copied your parents in|Your parents have the letter] about the [trip|test|deadline]",
        "Can you [send me|photograph] your [homework|coursework] so I can check it before {day}?"
        " => [ok|will do] [miss|sir|]",
        "[Well done|Good work] on the mock, {kid}",
    ),
    "staff_k": (
        "[ok|thanks|will do] [coach|sir|miss|]", "[can i|is it ok to] [bring my friend|come a bit late]?",
        "[ok|k] thank you",
    ),
    "staff_p": (
        "[Thanks|Thank you], I'll drop {kid} off at {time}", "[Got the form|Form's signed], thanks",
        "Is there anything [we|they] need for {day}?", "[Great|Lovely], thanks for letting us know",
    ),
    # ---- surprise party: secrets and ages in a benign setting
    "party": (
        "[we're|were] doing a surprise [party|thing] for {friend} on {day}[!!|!|]"
        " => [omg|yesss] [im in|count me in]",
        "[don't|dont|DONT] tell {po}, [it's|its] a [secret|surprise][!!|!| 🤫]"
        " => [omg|ok] [i wont|my lips are sealed|🤐]",
        "[be|meet] at {place} at {time}, [keep it secret|dont say anything|act normal]",
        "[how old|what age] is {friend} turning? => [16|17|30|21] [i think|]",
        "[send me|can u send] a pic of the [cake|banner|decorations]",
        "[delete|clear] this chat after so it doesn't get back to {po} [lol|]",
        "[i|we] got {po} [a hoodie|tickets|a necklace] from all of us",
        "[shh|shhh] {prs} literally next to me [lol|💀|]",
    ),
    "party_r": (
        "[omg|yesss|ok] [i wont|my lips are sealed|🤐]", "[what time|where] again?",
        "[ill put in|chipping in] [£5|a fiver]", "[love that|perfect]",
    ),
    # ---- two adults dating (ages stated, both 20+)
    "date_age": (
        "[how old are you|what age are you] [btw|by the way]? im {myage}",
        "[wait|so] how old [r u|are you]? [im {myage}|]",
    ),
    "date_age_r": ("{myage}[, you?|]", "[im|I'm] {myage} [lol|haha|]", "{myage}, [old i know|is that ok]"),
    "date_plan": (
        "[drinks|dinner|a walk] [on|this] {day}? => [sounds good|it's a date|deal] [😊|]",
        "[i'll|ill] meet you [at|outside] [the bar|the station|{place}] at {time}",
    ),
    "date_plan_r": (
        "[sounds good|it's a date|deal] [😊|]", "[cant|can't] {day}, [sunday?|next week?]",
        "[yes|yeah] [pls|]",
    ),
    "date_flirt": (
        "send a pic [;)|😏|of the outfit|] => [sent|check ur phone] 😉",
        "[you're|ur] [cute|gorgeous|trouble] [😘|😏|]",
        "[can't|cant] stop thinking about [last night|that kiss|you]",
        "wear [that dress|the blue shirt] again 😏", "[my place|your place] after? [no pressure|🍷]",
        "lets keep [this|us] quiet for now, my [friends|coworkers] are so nosy",
        "[work|my shift] was [long|awful], need a [drink|hug]",
    ),
    "date_flirt_r": (
        "[haha|lol] [maybe|we'll see|deal]", "[you're|ur] [bad|terrible] 😂", "[agreed|same] tbh",
        "[stop|behave] 😂",
    ),
    # ---- teens meeting at the mall
    "mall": (
        "[meet|meeting] at {place} at {time}? [{friend}'s coming|]"
        " => [omg yes|ok|bet|coming] [see u there|lol|]",
        "[dont|don't] tell my mum [im going|im with you], she thinks im at {friend}'s"
        " => [lol|haha] [ok|she wont find out]",
        "[send|text me] a pic of the [shoes|hoodie] you want",
        "[how old|wait how old] is {friend}'s cousin [lol|]? => [15|16|14] i think",
        "[bring|got] [money|cash] for [food|bubble tea|the cinema]?",
        "my [mum|dad|sister] is dropping us off",
    ),
    "mall_r": ("[omg yes|ok|bet] [lol|]", "[{time} works|cant til {time}]", "[ya|yeah] [i've got a tenner|]"),
    # ---- gamers trading items
    "trade": (
        "[trade|swap] [ur|your] {skin} for my [pickaxe|glider|pet]? => [deal|bet|hmm] [but add 200 more|]",
        "[ill|i'll] [gift|send] you [400|800|1000] {currency} for it => [sent|done] [check trades|]",
        "add me on [discord|{app}] [its easier|to trade|]",
        "[how old|wait how old] are you? [ur|you're] [cracked|so good] => [{myage}|im {myage}] [lol|hbu|u?]",
        "[dont|don't] tell anyone about [this|the] [glitch|spot|dupe], [its|it's] our secret"
        " => [lol ok|ok] [my lips are sealed|]",
        "[gg|good game] [that was close|]", "[you|u] on [tomorrow|later]? [we need a 4th|duos?]",
    ),
    "trade_r": ("[deal|bet|ok]", "[lol|gg]", "[yeah|ya] [in a bit|]"),
    # ---- study group swapping numbers
    "study": (
        "[whats|what's] [ur|your] number? [ill|i'll] add you to the group chat"
        " => [07700 900{n3}|its 07700 900{n3}]",
        "[meet|we're meeting] at the library [at {time}|{day}]",
        "[can someone|pls] send a pic of the [notes|questions|answers to q4] => [sent|check the gc]",
        "[how old|wait how old] is the [sub|new teacher]? [they look 20|]",
        "{subject} [test|exam] is {day} [and i know nothing|💀|]",
        "[who's|whos] doing [the slides|part 2|the intro]? => [me|i can|ill do it]",
    ),
    "study_r": ("[omg same|we're so cooked|same lol]", "[ok|kk]", "[lol|haha]"),
    # ---- grooming, by stage (suspect lines; the victim answers from the *_r bank)
    "g_small": (
        "how was [school|your day|practice] [today|]? => [ok|fine|boring|good] [i guess|lol|]",
        "[wanna|u wanna] play {game} [later|tonight]? => [yeah|maybe] [after homework|later]",
        "[gg|good game] earlier, [ur getting good|nice] => [lol|haha] thanks",
    ),
    "g_small_r": ("[ok|fine] [lol|]", "[haha|lol]"),
    "g_trust": (
        "[ur|you're] [really|so] good at {game} [ngl|tbh|]",
        "[u seem|you're] way more mature than [ppl|kids] ur age",
        "[i feel like|honestly] i can actually talk to you", "[ur|you're] so easy to talk to [fr|]",
        "nobody gets me like you do", "[you deserve|u deserve] better than [them|that] [fr|tbh]",
        "[bad day|rough day], [ur|you're] the only one who [cheers me up|gets it]",
    ),
    "g_trust_r": (
        "[lol|aw] [thanks|ty|thx]", "[haha|idk] [really?|fr?]", "[ur|you're] nice", "[same|aw same] [tbh|]",
    ),
    "g_info": (
        "[how old r u|how old are you] [btw|anyway|]? => [{myage}|im {myage}|{myage} lol|{myage} hbu]",
        "what year [r u|are you] in? => year {year}", "where [u|are you] from? like what town => {town}",
        "which school [u go to|do you go to]? => [st marys|{town} academy|the one near {place}]",
        "[r|are] your parents strict? => [kinda|yeah|not really]",
        "who's [home|in] [rn|right now]? => [just me and my brother|nobody lol|my mum]",
        "do you have [ur|your] own room? => [ya|yeah|no i share]",
        "when do [ur|your] parents get back? => [like 7|late|not til 9]",
    ),
    "g_info_r": ("[why|idk]", "[lol|haha] [why]"),
    "g_claim": ("[im|i'm] {claimed} [btw|lol|]", "[age is just a number|i'm not that old] [lol|]"),
    "g_secret": (
        "[dont|don't] tell [ur|your] [mum|mom|parents] we talk [ok|k|]", "this is just between us [ok|]",
        "[ppl|people] wouldn't understand [us|this]",
        "[delete|clear] our [chats|messages] after [k|ok]? => [ok|done] i deleted",
        "[ur|your] parents would freak, they [dont|don't] get it => [ya|yeah] they would lol",
        "[ur|your] friends are kinda fake, [i'm|im] the only one who gets you",
    ),
    "g_secret_r": ("[ok|k|okay]", "i [wont|won't]", "[true|i guess]"),
    "g_gift": (
        "want me to get you some {currency}? => [omg yes|wait fr??|yes pls]",
        "i can gift you {skin} [if u want|]", "[ill|i'll] send you a [steam|psn|amazon] card",
        "[check|look at] [ur|your] account 😉", "[ill|i'll] top up [ur|your] {currency} [tonight|]",
    ),
    "g_gift_r": (
        "[omg|wait] [thank you|ty]!!", "wait [fr|really]??", "[u|you] didnt have to", "[ur|you're] the best",
    ),
    "g_sex": (
        "[r u|are you] alone [rn|right now]? => [[ya|yeah] [why|]|no [my mums downstairs|my brothers here]]",
        "send a pic [of you|just for me|]", "what [r u|are you] wearing [lol|]",
        "have you ever kissed anyone? => [no|ew no|once lol]",
        "[bet|i bet] you look cute in [ur|your] [pjs|uniform]", "do you ever think about me [at night|]?",
    ),
    "g_sex_r": ("idk", "why", "[lol|haha] stop", "[maybe|umm]", "[thats|that's] [weird|kinda weird] lol"),
    "g_control": (
        "why didnt you answer me", "[u|you] said [u|you] would", "if [u|you] really cared [u|you] would",
        "after everything i got you?",
    ),
    "g_control_r": ("sorry i was busy", "[ok|okay] [ok|] sorry", "[dont|don't] be mad"),
    "g_app": (
        "add me on {app} its easier", "[whats|what's] [ur|your] [snap|{app}]? => [its|] {myhandle}",
        "this app reads our messages, [lets|let's] use {app}",
        "download {app} so we can talk properly => [i|i'll] have to hide it lol",
        "text me instead, [whats|what's] [ur|your] number? => 07700 900{n3}",
    ),
    "g_app_r": ("[ok|k] [added you|done]", "[ok|okay] [one sec|]"),
    "g_meet": (
        "we should [meet|hang out] [sometime|soon]",
        "i could pick you up from {place} => [ok|okay] [when|what time]?",
        "just say [ur|you're] at {friend}'s [lol|]", "[ill|i'll] be near {place} {day}",
        "[wanna|want to] hang out {day}? [ill|i'll] buy you food => [idk|maybe|ok] [what time?|]",
    ),
    "g_meet_r": (
        "[idk|maybe]", "[ok|okay] where", "[i'd|id] have to ask... or not lol", "[ok|fine] [{time}|]",
    ),
    "g_bye": (
        "[night|gn|sleep well] [{them}|] [😘|x|:)|]", "[talk|speak] tomorrow [ok|]",
        "[miss u already|cant wait to talk again]",
    ),
    # ---- mass contact: short first contacts, composed from parts
    "mc_compliment": (
        "hey [cutie|gorgeous|pretty|beautiful]", "[hii|hey] [u|you] look [cute|nice] in [ur|your] pic",
        "hey [u seem|you seem] cool",
    ),
    "mc_age": ("how old [r u|are you]?", "asl?", "[wat|what] age [r u|are you]", "u 13?"),
    "mc_app": (
        "add my snap {handle}", "[u got|got] snap?", "[msg|message] me on {app}", "add me on {app} {handle}",
    ),
    "mc_open": ("hey", "wyd", "hi {emo}", "[hey|hi] stranger"),
    "mc_r": (
        "who [r u|are you]", "{myage}", "[im|i'm] {myage} why", "no", "ew", "?",
        "[do i know u|do i know you]",
    ),
    "mc_follow": (
        "[aw|ok] add me then 😘", "[u|you] seem mature, [add|msg] me on {app}",
        "[cool|nice] [whats|what's] [ur|your] snap",
    ),
}  # fmt: skip


# --------------------------------------------------------------------------------------------- realising


_ALT_RE = re.compile(r"\[([^\[\]]*)\]")
_SLOT_RE = re.compile(r"\{(\w+)\}")
_TXT: dict[str, str] = {
    "you": "u", "your": "ur", "you're": "ur", "youre": "ur", "are": "r", "really": "rly", "okay": "ok",
    "please": "pls", "because": "bc", "tomorrow": "tmrw", "tonight": "tn", "though": "tho", "i'm": "im",
    "don't": "dont", "can't": "cant", "what": "wat", "people": "ppl", "about": "abt", "thanks": "thx",
    "probably": "prob", "with": "w", "something": "smth", "love": "luv", "before": "b4", "know": "kno",
}  # fmt: skip
_RARE_TXT = {"to": "2", "for": "4", "great": "gr8", "see": "c", "why": "y"}
_STRETCH = ("hey", "hi", "so", "omg", "yes", "no", "pls", "ok", "lol", "plz", "please", "nice", "yay")


def expand(template: str, rng: random.Random, ctx: Mapping[str, str]) -> str:
    """Fill ``{slots}`` (from ``ctx``, else a random pick from the slot bank) then ``[a|b]`` choices."""

    def slot(m: re.Match[str]) -> str:
        key = m.group(1)
        if key in ctx:
            return ctx[key]
        return expand(rng.choice(SLOTS[key]), rng, ctx) if key in SLOTS else m.group(0)

    text = _SLOT_RE.sub(slot, template)
    while True:
        new = _ALT_RE.sub(lambda m: rng.choice(m.group(1).split("|")), text)
        if new == text:
            break
        text = new
    return re.sub(r"\s{2,}", " ", text).strip()


@dataclass(frozen=True, slots=True)
class Style:
    """How a speaker types: per-word txt-speak chance, per-message typo/emoji chance, case habits."""

    txt: float
    typo: float
    emoji: float
    lower: bool
    proper: bool

    @staticmethod
    def casual(rng: random.Random) -> Style:
        return Style(
            rng.uniform(0.2, 0.9), rng.uniform(0.0, 0.15), rng.uniform(0.05, 0.35), rng.random() < 0.8, False
        )

    @staticmethod
    def formal(rng: random.Random) -> Style:
        return Style(0.0, rng.uniform(0.0, 0.04), rng.uniform(0.0, 0.08), False, True)


def _typo(word: str, rng: random.Random) -> str:
    i = rng.randrange(1, len(word) - 1)
    op = rng.randrange(3)
    if op == 0:
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    if op == 1:
        return word[:i] + word[i + 1 :]
    return word[:i] + word[i] + word[i:]


def stylise(text: str, style: Style, rng: random.Random) -> str:
    """Apply a speaker's habits to a clean line."""
    words = text.split(" ")
    for i, w in enumerate(words):
        core = w.rstrip(".,!?").lower()
        tail = w[len(core) :] if w.lower().startswith(core) else ""
        if core in _TXT and rng.random() < style.txt:
            words[i] = _TXT[core] + tail
        elif core in _RARE_TXT and rng.random() < style.txt / 4:
            words[i] = _RARE_TXT[core] + tail
        elif not style.proper and core in _STRETCH and rng.random() < 0.12:
            words[i] = core + core[-1] * rng.randint(1, 3) + tail
    if rng.random() < style.typo:
        idx = [i for i, w in enumerate(words) if len(w) >= 4 and w.isalpha()]
        if idx:
            j = rng.choice(idx)
            words[j] = _typo(words[j], rng)
    out = " ".join(words)
    if style.lower:
        out = out.lower()
        if rng.random() < 0.5:
            out = out.rstrip(".")
    elif style.proper:
        out = out[:1].upper() + out[1:]
        if out[-1:].isalnum():
            out += "."
    elif rng.random() < 0.02:
        out = out.upper()
    if rng.random() < style.emoji:
        out += (" " if rng.random() < 0.7 else "") + rng.choice(EMOJI) * rng.choice((1, 1, 1, 1, 2, 3))
    return out
