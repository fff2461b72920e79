"""Hand-written behavioural cues of one chat message: who asks what of whom.

Why cues at all: a lexical model trained on Perverted-Justice chats learns "flirty or sexual talk means
predator" and fails both ways — on adult sexual chat and benign look-alikes (a surprise party secret, a
coach who informs parents, teens meeting at the mall), and on grooming written in slang or through game
gifts. Cues name the *act* a message performs (asks the other side's age, asks for secrecy, offers
robux, states "im 13") so that the conversation-level model can combine acts with the stated ages of
both sides. They are evidence, not verdicts: "secret santa" does fire SECRECY; context decides.

Speed: this runs on every message. A message is normalised once, split into words, and the word set is
intersected with a trigger table; only the small pattern groups whose trigger words occur run their
precompiled regex. A typical 60-character chat line costs about 7 µs of CPU (see ``docs/stages.md``).
Callers that need both the cues and the stated age should call :func:`cue_flags_and_age` (one pass).
"""

from __future__ import annotations

import enum
import re
import unicodedata
from typing import NamedTuple

from safeguarding.detection.features import MAX_CHARS
from safeguarding.types import Stage

__all__ = ["CUE_STAGES", "N_CUES", "Cue", "cue_flags", "cue_flags_and_age", "cue_names", "stated_age"]


class Cue(enum.IntFlag):
    """One bit per behavioural cue. Bit ``i`` is ``1 << i``; the order is part of the model artifact."""

    AGE_QUESTION = enum.auto()
    LOCATION_QUESTION = enum.auto()
    ALONE_QUESTION = enum.auto()
    SECRECY = enum.auto()
    MEETING = enum.auto()
    OFF_PLATFORM = enum.auto()
    GIFTS = enum.auto()
    SEXUAL = enum.auto()
    PHOTO_REQUEST = enum.auto()
    COMPLIMENT = enum.auto()
    AFFECTION = enum.auto()
    MATURITY = enum.auto()
    CONTROL = enum.auto()
    ISOLATION = enum.auto()
    MINOR_SELF = enum.auto()
    ADULT_SELF = enum.auto()
    PARENT_MENTION = enum.auto()
    QUESTION = enum.auto()
    SCHOOL = enum.auto()


N_CUES: int = len(Cue)

CUE_STAGES: dict[Cue, Stage] = {
    Cue.AGE_QUESTION: Stage.INFORMATION_GATHERING,
    Cue.LOCATION_QUESTION: Stage.INFORMATION_GATHERING,
    Cue.ALONE_QUESTION: Stage.INFORMATION_GATHERING,
    Cue.SECRECY: Stage.SECRECY_ISOLATION,
    Cue.ISOLATION: Stage.SECRECY_ISOLATION,
    Cue.SEXUAL: Stage.SEXUALISATION,
    Cue.PHOTO_REQUEST: Stage.SEXUALISATION,
    Cue.CONTROL: Stage.CONTROL_COERCION,
    Cue.OFF_PLATFORM: Stage.OFF_PLATFORM,
    Cue.MEETING: Stage.MEETING,
    Cue.GIFTS: Stage.GIFTS,
    Cue.COMPLIMENT: Stage.TRUST_BUILDING,
    Cue.AFFECTION: Stage.TRUST_BUILDING,
    Cue.MATURITY: Stage.TRUST_BUILDING,
}
"""Which cues evidence which grooming stage. Self-statements, questions, parents and school are context."""


def cue_names() -> list[str]:
    """Lower-case cue names in bit order (``cue_names()[i]`` names bit ``1 << i``)."""
    return [c.name.lower() for c in Cue if c.name]


# -- lexicon ------------------------------------------------------------------------------------------------
# Placeholders keep the patterns readable (<Y> = you/u/ya..., <YR> = your/ur..., <PAR> = parent words).
_MACROS = {
    "<YRE>": r"(?:you'?re|your|ur|u'?r|u r|you are|u are|ure|youre|yur|ya)",
    "<YR>": r"(?:your|ur|yr|yur|yor|ure|youre)",
    "<Y>": r"(?:you|u|ya|yu|yah|yoo|youu|chu)",
    "<ARE>": r"(?:are|r|re|ar)",
    "<DONT>": r"(?:don'?t|dont|dnt|do not|doant|dun)",
    "<IM>": r"(?:i'?m|im|i am|iam|i'?ma)",
    "<ILL>": r"(?:i'?ll|ill|i will|i'?m gonna|im gonna|i am gonna|i'?m going to|i am going to|imma|i'?ma)",
    "<PAR>": r"(?:parents?|rents|moms?|mums?|mommy|mummy|mother|dads?|daddy|father|folks|family|mama"
    r"|step ?(?:dad|mom|mum))",
    "<PIC>": r"(?:pics?|pix|pik|picz|pictures?|photos?|fotos?|selfies?|snaps?|vids?|videos?|nudes?|noods?)",
    "<ANY1>": r"(?:any ?one|any ?body|any1|ne1|no ?one|nobody|no1|no body|every ?one|every1|people|ppl)",
}
_MACRO_RE = re.compile("|".join(re.escape(k) for k in _MACROS))


def _expand(patterns: tuple[str, ...]) -> str:
    body = "|".join(patterns)
    body = _MACRO_RE.sub(lambda m: _MACROS[m.group(0)], body).replace(" ?", r"\s*").replace(" ", r"\s+")
    return r"(?<![a-z0-9])(?:" + body + r")(?![a-z0-9])"


# The lexicon, one section per cue. "= words" set the cue on their own. "? words" open a group: the
# group's patterns (the lines after it) only run when one of those trigger words occurs ("#digit": any
# digit, "$": a dollar sign) and, if the group has a "& words" line, one of those too. So a message pays
# for a few small regexes, not for the whole lexicon. A line starting with "..." continues the previous
# pattern. Patterns are ASCII lower case; in them " " means one or more whitespace characters and " ?"
# zero or more; each group is wrapped in word boundaries.
_LEXICON = r"""
[AGE_QUESTION]
= asl
? old
(?:how|hw|hoe|hpw) old (?:<ARE> ?<Y>|ru|r|are)
how old\s*\?
(?:too|to|2) old for <Y>
? young
how young
? l
a ?/ ?s ?/ ?l
? age
(?:wh?at'?s|wats|wuts|what is|wat is) <YR> age
<YR> age\s*\?
(?:what|wat|wut|wht) age
^\s*age\s*\?
? grade year
(?:what|wat|which|wut) (?:grade|year) (?:<ARE> <Y>|\?)
? birthday bday
when'?s <YR> (?:birthday|bday|b-day)
? minor adult teen teenager underage legal
<ARE> <Y> (?:a |an )?(?:minor|adult|teen|teenager|underage|legal)
? #digit
& are r ru
<ARE> <Y> (?:over|under|above|below|even|like|at least|older than|younger than)? ?(?:1\d|2[01])
[LOCATION_QUESTION]
= asl wya wru
? where wher whr
(?:where|wher|whr) (?:do |d |does |did )?<Y> (?:live|liv|stay|located|from|at|@|go to school)
(?:where|wher|whr)(?:'?s| is) <YR> (?:house|home|place|school|town|city|address|addy|location)
(?:where|wher|whr) <ARE> <Y> (?:from|located|at|@|living|staying|rn|right now)
? city state town country area part county province neighborhood neighbourhood school street zip
? address addy postcode location
(?:what|wat|which|wut|wht) (?:city|state|town|country|area|part of town|county|province
...|neighbou?rhood|school|street|zip)
<YR> (?:address|addy|zip(?: code)?|post ?code|location|city|town)
? live
live (?:near|close|nearby|around)
? far
how far (?:away )?(?:<ARE> <Y>|is <YR>)
? location loc
^\s*(?:location|loc)\s*\?
? were where
& from
^\s*(?:from where|where from)\s*\?
(?:where|were) (?:<Y> )?from
? l
a ?/ ?s ?/ ?l
[ALONE_QUESTION]
= bedroom
? alone self yourself urself
<ARE> <Y> (?:home )?(?:alone|by (?:<YR> ?self|yourself))
<Y> (?:home )?alone
alone\s*\?
? anyone anybody any any1 ne1 someone somebody some people ppl
& home there around with room watching looking
(?:any ?one|any ?body|any1|ne1|some ?one|some ?body|ppl|people) (?:else )?(?:home|there|around
...|with <Y>|in the room|watching|looking)
? who whos
& home there around with house
who(?:'?s| is|z)? (?:else )?(?:home|there|around|with <Y>|in the house)
? parents parent rents mom moms mum mums mommy mummy dad dads daddy father mother folks family mama
? stepdad stepmom step
(?:<YR>|<ARE> <YR>|<ARE>) <PAR> (?:home|around|there|awake|asleep|sleeping|gone|out|away|at work
...|working|in bed|out of town|nearby|downstairs|upstairs)
when (?:do|does|will|did|<ARE>) <YR> <PAR> (?:get|come|go|leave)
(?:do|does|will|would|can|<YR>) <PAR> (?:check|read|look at|go through|monitor)
? room bed
(?:in|on|from) <YR> (?:bed|room)
? own
(?:do|does) <Y> (?:have|got) (?:<YR> )?own (?:room|phone|computer|laptop)
own room
? door
lock (?:the|<YR>) door
? work works working live home
& when what who does do where time
(?:when|what time) (?:do|does|will|did) <YR> <PAR> (?:work|leave|get home|come home|go to work|go to bed)
(?:do|does) <YR> <PAR> (?:work|know)
who (?:do|d) <Y> live with
(?:what time|when) (?:do|does) <Y> (?:get home|go to bed|go to sleep|get out of school)
[SECRECY]
= secret secrets secretly
? tell tel
<DONT> (?:you )?(?:ever )?(?:tell|tel)(?! ?me(?![a-z0-9]))
(?:never|not) tell(?! ?me(?![a-z0-9]))
(?:can'?t|cant|cannot|can not|shouldn'?t|shouldnt|better not|won'?t|wont|will not|promise not to
...|promise <Y> won'?t|promise <Y> wont) (?:ever )?(?:tell|say anything)
? say mention
& anything nothing it this that
<DONT> (?:say|mention) (?:anything|nothing|it|this|that) to
? let
<DONT> let (?:<ANY1>|<YR> <PAR>|<PAR>|them) (?:know|find|see|read)
? show
<DONT> show (?:<ANY1>|<YR> <PAR>|<PAR>|them) (?:this|these|it|that|the|our)
<DONT> show (?:this|these|it|that) to
? keep
keep (?:it|this|that|things|us|everything|this chat|it all|<YR> mouth)? ?(?:between us|between (?:<Y>
...|me) (?:and|n|&) (?:me|i|<Y>)|secret|a secret|quiet|private|hidden|to (?:<YR> ?self|yourself)
...|on the (?:dl|down low|low)|hush)
? between btwn
between (?:<Y> (?:and|n|&) (?:me|i)|us|the two of us|us two)
? delete del erase clear wipe remove rid
(?:delete|del|erase|clear|wipe|remove|get rid of) (?:the |this |our |these |those |<YR> |all (?:the
... |of )?(?:our |<YR> |these |those |this )?|every |it |them )?(?:chats?|convos?|conversations?
...|messages?|msgs?|texts?|history|logs?|<PIC>|dms?|ims?|after|when|once|so)
? know find see hear
& no nobody no1 noone never cant cannot mustn must better shouldnt shouldn need dont don doesnt won wont t
(?:no ?one|nobody|no1|noone|no body) (?:else )?(?:needs? to|has to|have to|gotta|will|would|can|should
...|must) (?:ever )?(?:know|find out|see|hear)
(?:<YR> <PAR>|<PAR>|they|he|she|<ANY1>) (?:can'?t|cant|cannot|mustn'?t|must not|better not|shouldn'?t
...|shouldnt|can never|must never|never) (?:ever )?(?:know|find out|found out|see this|hear about|read this)
(?:<YR> <PAR>|<PAR>) (?:don'?t|dont|won'?t|wont|doesn'?t|doesnt) (?:need to|have to|gotta) know
? if
& find finds found sees saw read reads knew catch caught
if (?:<YR> |any ?one |anybody |some ?one |he |she )?<PAR> (?:ever )?(?:find|finds|found|sees|saw|read|reads
...|knew|catch|caught) (?:out|this|us|these)
if (?:they|any ?one|anybody|some ?one) (?:ever )?(?:finds?|found|catch|caught|knew) (?:out|us)
? dl low
on the (?:dl|down low|low)
? private hidden
(?:private|hidden) (?:chat|account|convo|relationship)
? hide
hide (?:it|this|that|them|us) (?:from|so)
? promise swear
(?:promise|swear) (?:<Y> )?(?:won'?t|wont|will not|not to|never)
? cover
cover for (?:me|us)
? trouble jail prison
& i we both me
(?:i|we|both|me) (?:\w+ )?(?:could|would|will|can|might|dont want to|don'?t wanna|do not want to|gonna)
... (?:get|go|be|end up) (?:in|into|to) (?:trouble|jail|prison)
(?:go|going|end up|be sent|get sent|sent) to (?:jail|prison)
? cop cops police fed undercover sting setup trap
(?:<ARE> <Y>|<YRE>|u r) (?:a |an )?(?:cop|police|fed|undercover|sting)
(?:is this|this is|<ARE> <Y>|<YRE>) (?:a |an )?(?:sting|setup|set up|trap)
? say think do mad freak kill
& would will wud if
(?:would|will|wud) <YR> <PAR> (?:say|think|do|be mad|freak|kill|flip)
(?:<YR> |)<PAR> (?:would|will|wud) (?:kill|freak|flip|be mad|be angry|be pissed|go crazy)
what if <YR> <PAR>
? told tell
& did have anyone anybody parents mom dad friends
(?:did|have|has) <Y> (?:tell|told|tld) (?:any ?one|anybody|any1|<YR> <PAR>|<YR> friends)
? careful
(?:be|been|being|have to be|gotta be|got to be) (?:really |very |extra )?careful
[MEETING]
= meetup hotel motel airbnb irl f2f sleepover
? meet meeting
meet (?:up|me|<Y>|irl|in person|somewhere|sometime|some time|at|tonight|tomorrow|tmrw|tmr|2morrow
...|this|next|on|after|before|when|each other|face to face|halfway|half way|\?)
meet(?:ing)? ?up
(?:wanna|want to|want 2|can|could|should|will|let'?s|lets|gonna|going to|we|when|where|ever|to|like to
...|love to|plz|pls|please) meet
? pick
pick (?:<Y> up|up <Y>)
? come comin coming
come (?:and |n |& )?(?:get|pick up) <Y>
come (?:over|by|round|around|visit|see <Y>)
(?:come|coming) (?:over )?to (?:my|<YR>) (?:place|house|home|apartment|apt|room|hotel|car|town)
? place house home apartment apt hotel
(?<!is\s)(?<!s\s)(?:go|going|get) (?:over )?to <YR> (?:place|house|home|apartment|apt|hotel)
(?:at|to) my (?:place|apartment|apt|hotel)
? drive driving visit fly travel bus come
(?:<ILL>|i could|i can|i'?d) (?:drive|visit|fly|take a bus|travel|be there|come (?:get|see|visit|over
...|down|up|to|pick|find|meet))
drive (?:to|down|up|over|out) (?:to )?(?:<Y>|see|there|<YR>|meet)
? visit see c hug kiss hold
& in irl real weekend tonight tomorrow tmrw soon sat saturday sunday friday next after this
(?:visit|see|c|hug|kiss|hold) <Y> (?:in person|irl|for real|4 real|this weekend|tonight|tomorrow|tmrw
...|soon|sat|saturday|sunday|friday|next week|after school|this summer)
? person face
in person|face to face
? when
& meet see hang come visit together
when (?:can|could|will|do|should|<ARE>) (?:we|i|<Y>) (?:meet|see|hang|come|visit|get together)
? where
where (?:should|can|could|will|do|shall|would) (?:we|i) (?:meet|pick (?:<Y> )?up)
where (?:should|can|could|shall) we go
? sneak sneek
sneak (?:<Y> )?out|sneek out
? together hang hanging chill hook hooking
(?:get|got|be|hang|hanging|chill|hook|hooking) (?:together|up|out) (?:irl|in person|sometime|this weekend
...|tonight|tomorrow|after school|with me)
hook up
? station parking
(?:bus|train) station|parking lot
? take taking bring
& out home somewhere date
(?:take|taking|bring) <Y> (?:out|home|somewhere|on a date)
? date
go (?:on|out on) a date
? free busy
& tonight tomorrow tmrw weekend friday saturday sunday
(?:<ARE> <Y>|<Y>) (?:free|busy) (?:tonight|tomorrow|tmrw|this weekend|on (?:friday|saturday|sunday))
? time
& meet come pick be see get
what time (?:should|can|do|will|shall) (?:i|we) (?:meet|come|pick|be|see|get)
? there
i'?ll be there|i will be there|be there (?:at|by|in)
? ride lift directions
(?:give|get) <Y> a (?:ride|lift)|directions
[OFF_PLATFORM]
= snapchat kik whatsapp whatsap watsapp telegram skype facetime hmu insta instagram discord msn myspace
= facebook tiktok wechat viber omegle email gmail hotmail sms imessage wickr hangouts webcam cam2cam c2c
? snap
snap (?:me|<Y>|back|name|username|user|id|handle)
(?:my|<YR>|add|on|got|have|hav|use) snap
snap\s*\?
? sc ig number num digits cell phone addy username handle yahoo aim fb
(?:my|<YR>|wh?at'?s <YR>|wats <YR>) (?:sc|ig|snap|number|num|#|digits|addy|username|handle|yahoo|aim
...|cell ?(?:number|#|num)|phone ?(?:number|#|num))
(?:phone|cell|mobile|cel|home) (?:number|num|#|no)
(?:give|send|gimme|tell|get|got|have|hav|want) (?:me )?<YR> (?:number|num|#|digits|cell|phone|snap|sc
...|ig|insta|email|addy|skype|discord|whatsapp)
(?:number|num|digits)\s*\?
? text txt call ring phone fone ft skype kik
(?:text|txt|call|ring|phone|fone|facetime|ft|skype|kik) (?:me|<Y>)
? add follow find hit msg message dm pm contact reach talk chat text send
(?:add|follow|find|hit|msg|message|dm|pm|contact|reach|talk|chat|text|send) (?:me |<Y> )?(?:up )?(?:on|at
...|via|over|thru|through|@) (?:snap|snapchat|sc|kik|ig|insta|instagram|whatsapp|skype|discord|telegram
...|facebook|fb|msn|yahoo|aim|myspace|the phone|phone|cell|email|my number|tiktok|cam|webcam)
? phone fone cell
on (?:the )?(?:phone|fone|cell)
(?:video|voice|phone) (?:call|chat)
? video voice vc cam
(?:video|voice) (?:call|chat)
vc|on cam|cam (?:me|now|chat|2 cam|to cam)
? app site account
(?:private|other|different|another) (?:app|site|chat room|account)
(?:switch|move|go) (?:to|over to) (?:another|a different|a private|private|the other) (?:app|chat|site|room)
[GIFTS]
= robux vbucks vbux giftcard minecoins nitro paypal cashapp venmo zelle moneygram skins
? buy buying bought spoil treat
(?:buy|buying|bought|spoil|treat) <Y>
? get getting got send sending give giving pay paying
& you u ya yu yah yoo youu chu
(?:get|getting|got|send|sending|give|giving|pay|paying) <Y> (?:some |a |an |new )?(?:money|cash|\$|robux
...|vbucks|v-?bucks|v bucks|skins?|gifts?|presents?|clothes|shoes|phone|iphone|credits?|gems|coins|nitro
...|gift ?cards?|something|sumthing|anything|stuff|whatever)
? card cards itunes amazon steam google psn xbox battle battlepass cash app apple western union v
gift ?cards?|(?:itunes|amazon|steam|google play|psn|xbox) (?:card|gift|wallet)|battle ?pass|cash ?app
...|apple pay|western union|v-?bucks|v bucks
? free
free (?:robux|vbucks|skins|gems|coins|money|cash|credits|stuff)
? money cash dollars bucks quid pounds euros $
(?:money|cash|\$\s?\d+|\d+\s?(?:dollars|bucks|quid|pounds|euros)) (?:for|to|4) <Y>
? pay buy get send
(?:<ILL>|i can|i could|i'?d|let me|lemme) (?:pay for|buy|send <Y> money|get <Y> (?:some|a|an|new))
? present presents gift gifts surprise
(?:presents?|gifts?|surprise) (?:for|4) <Y>
? want
& for buy get
what (?:do|would|wud) <Y> want (?:for|me to (?:buy|get))
[SEXUAL]
= sex sexx s3x secks seks seggs sexual sexually sexting sext horny horney hornie horni hrny naked nekkid
= nude nudes noods nudez nood topless undress undressed cock cocks c0ck dick dicks d1ck dik penis pussy
= pussies pusy vagina clit boobs boobies boobz b00bs tits titties tittys titty nipples nipple breasts cum
= cumming cumm jizz orgasm orgasms masturbate masturbating masturbation jerking blowjob bj bjs handjob
= porn porno erection boner condom condoms panties thong lingerie bra undies underwear virgin virginity
= spank spanking moan moaning anal kinky foreplay fetish stripping makeout hookup wyw
? fuck fuk fuq phuck fck bang screw shag smash
(?:fuck|fuk|fuq|phuck|fck)(?:ing|in)? (?:me|<Y>|her|him|each other) (?:hard|so|all|good|till|until|right
...|raw)
(?:wanna|want to|want 2|gonna|let me|lemme|i'?d|i would|to|we|could|should) (?:fuck|fuk|fck|bang|screw
...|shag|smash)
fuck me
? make making made
& out
(?:make|making|made) out
? hook
hook ?up
? sleep slept sleeping
(?:sleep|slept|sleeping) (?:with (?:me|<Y>|him|her|someone|a guy|a girl|any ?one)|together)
? bed
in bed (?:with (?:me|<Y>|him|her|someone)|together)
? turn turns turned
(?:turn|turns|turned) (?:<Y>|me) on
turned on(?! (?:the|a|my|it|<YR>|his|her|this|that))
? clothes shirt top pants bra panties underwear undies dress skirt jeans shorts boxers
(?:take|taking|took|rip) (?:off )?(?:<YR>|my|her|his|them|those) (?:clothes|shirt|top|pants|bra|panties
...|underwear|undies|dress|skirt|jeans|shorts|boxers)
(?:clothes|shirt|top|pants|bra|panties|underwear) off
? wearing
(?:what|wat|wut) <ARE> <Y> wearing
? touch touching touched rub rubbing finger fingering play playing
(?:touch|touching|touched|rub|rubbing|finger|fingering) (?:<YR> ?self|yourself|myself|my self|herself|<Y>
...|<YR> (?:body|boobs|breasts|chest|legs|thighs?|butt|ass|privates))
(?:play|playing) with (?:<YR> ?self|yourself|myself|<YR> (?:body|boobs|breasts|chest|butt|ass|privates))
? down
(?:touch|feel|rub|hair|shave|shaved|wet|play|finger|lick) (?:\w+ )?down there
? hard wet horny
(?:get|gets|got|getting|make|makes|made|making) (?:me|<Y>) (?:so |really )?(?:hard|wet)
(?:<IM>|<YRE>|<ARE> <Y>) (?:so |really |rly )?(?:wet|hard|horny)(?! (?:to|on|at|for|from|working|worker))
? suck sucking
suck (?:my|<YR>|on (?:my|<YR>|it))
? lick licking
(?:lick|licking) (?:my|<YR>|<Y>|her)
? eat
eat (?:<Y>|her|it) out
? go going
& down
(?:go|going) down on
? ass butt booty privates thighs chest hips body
<YR> (?:ass|butt|booty|privates|private parts|thighs|chest|hips)
(?:nice|sexy|hot|big|little|tight) (?:ass|butt|booty|body|chest|thighs)
? size
(?:cup|bra) size
? dirty naughty kinky sexy nasty
(?:dirty|naughty|kinky|sexual|sexy|nasty) (?:talk|things|stuff|pics|pictures|games|thoughts|girl|boy|dreams)
? 69 oral
69|oral (?:sex|stuff)|give (?:me |<Y> )?oral|do oral
? jerk jack jackin jerkin
(?:jerk|jack|jackin|jerkin)(?:ing)? off
[PHOTO_REQUEST]
= selfie selfies webcam
? pic pics pix pik picz picture pictures photo photos foto fotos snap snaps vid vids video videos
? nude nudes nood noods
(?:send|snd|sned|snap|post|show|give|text|email|mail|share|trade|swap|exchange|upload) (?:me |us )?(?:a
... |an |some |sum |<YR> |more |another |one |that |any |new )?(?:(?:cute|sexy|hot|naughty|dirty|private
...|nude|naked|full ?body|face|bikini|body|real|recent|good|new|nice|close ?up|pretty|more) )?<PIC>
(?:can|could|may|will|would) (?:i|<Y>) (?:see|c|have|get) (?:a |<YR> |some |more |another |one )?<PIC>
(?:got|have|hav|any) (?:any |more |some |a )?<PIC>(?: of (?:<Y>|yourself|<YR> ?self))?\s*\?
<PIC> of (?:<Y>|yourself|<YR> ?self|<YR> (?:face|body|feet|legs|butt|ass|chest|boobs|tits|outfit))
<PIC>\s*\?
<PIC> (?:plz|pls|please|pleas|now|asap|for me|4 me)
(?:take|snap|make) (?:a |an |some |sum |more |another |one )?<PIC> (?:of|for) (?:<Y>|me|yourself|<YR>)
? see c look watch
& let lemme want wanna wana can could may like love
(?:let me|lemme|i want to|i wanna|wanna|want to|i'?d like to|can i|could i|may i|want 2|love to) (?:see|c
...|look at|watch) (?:<Y>|them|more|what <Y>|<YR> ?self|yourself|<YR> (?:face|body|<PIC>|boobs|tits|chest
...|legs|feet|butt|ass|outfit|cam))
? show
show (?:me|us) (?:<Y>|yourself|<YR> ?self|them|more|some|<YR> (?:face|body|<PIC>|boobs|tits|chest|legs
...|feet|butt|ass|outfit|cam))
show (?:me|us)\s*(?:[!.?]|$)
? cam camera facetime video face reveal
(?:turn|get|go|put|hop) on (?:<YR> |the |a )?(?:cam|webcam|camera|video|facetime)
on cam(?:era)?|cam2cam|c2c|face ?reveal
? look
(?:what|wat|how) (?:do |does )?<Y> look like
[COMPLIMENT]
= cute cutie cutey qt qtie beautiful beatiful beautifull beautful butiful beutiful bootiful gorgeous
= gorgous gorgeus handsome stunning adorable hottie hotty sexy sexi sexxy secksy s3xy sexey lovely
= attractive cutest prettiest goodlooking
? pretty
(?:<YRE>|<Y>|look|looking|looks|how|such a|so|soo|very|really|rly|realy|is|<ARE>|super) (?:so |really
... |very )?pretty(?! (?:good|much|sure|cool|bad|fun|well|big|fast|hard|easy|nice|funny|great|awesome
...|smart|boring|close|old|new|long|busy|tired|quick|late|early|weird|interesting|bored|chill|normal
...|decent|ok|okay|lame|dumb|stupid|fine|crazy|amazing|serious|strict|simple|basic|far|young|short
...|tall|small|annoying|sick|happy|sad|excited|scared|mad|lucky|sweet|random|slow|quiet|hot|cold
...|active|rare|cheap|expensive|mean|legit|solid|dope|intense|rough|tough|fast)\b)
pretty (?:girl|face|eyes|smile|lady|one|thing|woman|hair|lips)
pretty\s*(?:[!.]|$)
? hot
(?:<YRE>|<Y>|look|looking|looks) (?:so |really |very |rly |super |soo |damn )?hot
hot (?:girl|guy|boy|body|chick|pic|pics|babe|thing|lady|one)
? fine
fine (?:ass|girl|thing)
? looking look looks
good looking
(?:<Y>|<YRE>) (?:look|looks|looking) (?:so |really |rly |very )?(?:good|great|nice|amazing|fine)
? nice
nice (?:body|legs|smile|eyes|lips|hair|pic|pics|picture|photo|figure|butt|ass|booty)
? love like
& your ur yr yur yor ure youre
(?:love|like) <YR> (?:body|smile|eyes|lips|hair|legs|pics?|face|voice|style)
? perfect beauty
<YRE> (?:so |really )?(?:perfect|a beauty)
[AFFECTION]
= babe bby bae hun hunny honey sweetie sweety sweetheart sweetpea darling darlin muah mwah xoxo hugs
= kisses cuddle cuddles snuggle soulmate ily ilu ilysm ilyt princess
? love luv lov wuv adore
(?:love|luv|lov|wuv|adore) (?:<Y>|talking to <Y>)
? miss missed missing
(?:miss|missed|missing) <Y>
? special
(?:<YRE>|<Y>) (?:so |very |really |rly |soo |truly |extra )?special
special (?:to me|girl|boy|one|friend|person|someone|lady|relationship|bond|connection)
? girl boy baby babe princess angel sweetheart love queen king honey darling beautiful gorgeous sweetie
? lil little
my (?:girl|boy|baby|babe|princess|angel|sweetheart|love|queen|king|honey|darling|beautiful|gorgeous
...|sweetie|lil|little one|special)
? baby
(?:hey|hi|hello|night|nite|morning|ok|okay|yes|yeah|thanks|thx|bye|love you|miss you) baby
? hug cuddle snuggle hold
(?:hug|cuddle|snuggle|hold) <Y>
? trust tell talk count rely
<Y> can (?:always )?(?:trust|tell|talk to|count on|rely on|come to) me
trust me
? care like adore need
& you u ya yu yah yoo youu chu
i (?:really )?(?:care about|care for|like|adore) <Y>
i need <Y>(?! to)
? thinking thinkin think thought dream dreaming dreamt dreamed
& about of abt bout
(?:thinking|thinkin|think|thought|dream|dreaming|dreamt|dreamed) (?:about|of|abt|bout) <Y>
? mean
& much lot alot everything world
<Y> mean (?:so much|a lot|alot|everything|the world)
? love meant
meant to be|true love|in love
? fall falling fell
(?:fall|falling|fell) for <Y>
? gf girlfriend bf boyfriend boo
be (?:my|<YR>) (?:gf|girlfriend|bf|boyfriend|boo)
? crush crushing
(?:crush|crushing) on|(?:have|got) a crush
? date dating
(?:date|dating) (?:with )?(?:me|<Y>)
? out
& go
go out with (?:me|<Y>)
? best bff bestie
<YRE> my (?:best friend|bff|bestie)
? talking
(?:like|enjoy|love) talking (?:to|with) <Y>
? glad
glad (?:i met|we met|to have) <Y>
? make makes made
& happy smile
<Y> (?:make|makes|made) me (?:so )?(?:happy|smile)
[MATURITY]
= maturity
? mature
(?:<YRE>|<Y>|<ARE> <Y>) (?:\w+ )?(?:so |really |very |rly |more |pretty |quite )?mature
mature for (?:<YR>|a|someone|ur)
? age old
age (?:is|s|'s) (?:just |only )?(?:a )?(?:number|#)
age (?:doesn'?t|doesnt|does not|dont|don'?t|do not|dosent|dosnt|won'?t|wont|shouldn'?t|shouldnt) matter
(?:doesn'?t|doesnt|does not|dont|don'?t|dosent|dosnt|dnt|do not) (?:matter|care|mind) (?:how old|what age
...|about (?:the |<YR> |our )?age|<YR> age)
(?:older|smarter|wiser) (?:than|then) <YR> age
(?:older|grown) for <YR> age
(?:girls|boys|kids|teens|people) <YR> age
age (?:gap|difference)
(?:too|to|2) old for <Y>
old soul
? older grown
(?:<Y>|<YRE>) (?:seem|seems|act|acts|sound|sounds|look|looks|talk|type) (?:so |really |much |way |a lot
... |alot )?(?:older|grown ?up|like an adult|like a grown)
older (?:guys|men|man|boys|dudes)
<Y> (?:like|into|date|dated|go for) older
? other most
& like different unlike
(?:not like|different from|unlike) (?:other|most) (?:girls|boys|kids|teens|people)
[CONTROL]
? have hav gotta got must better betta need needs
& you u ya yu yah yoo youu chu
<Y> (?:have|hav|gotta|got to|got 2|must|better|betta|need to|needs to) (?:to |2 )?(?:do|listen|obey
...|answer|reply|respond|send|show|tell|come|meet|call|text|delete|stop|prove|turn|take|give|trust)
? else
or else
? or
& ll ill will swear imma gonna
or (?:<ILL>|i'?ll|ill|i will|i swear) (?:tell|post|show|send|share|leak|hurt|come|find|block|leave|stop
...|never|expose)
? if
& you u ya yu yah yoo youu chu
if <Y> (?:don'?t|dont|do not|won'?t|wont) (?:do|send|answer|reply|come|show|listen|delete|call|text|meet
...|turn|take)
if <Y> (?:refuse|say no|stop talking|tell|block|leave|ignore)
if <Y> (?:really |rly |truly |actually )?(?:love|loved|care|cared|like|liked|trust|trusted) me
? tell show send post share upload leak expose spread forward hurt kill find ruin
(?:<ILL>|i could|i can|i might) (?:tell (?:<YR> <PAR>|<PAR>|<ANY1>|them|the police|<YR> friends|<YR>
... school|on <Y>)|show (?:<YR> <PAR>|<ANY1>|them|<YR> friends|the pics|those|these)|send (?:it|them|the
... pics|these|those|this|<YR> pics) to|post|share|upload|leak|expose|spread|forward|hurt (?:<Y>|myself)
...|kill (?:<Y>|myself)|find <Y>|ruin)
? owe promised
<Y> owe me
<Y> promised
? what as
& say said tell told ask asked
(?:do|did) (?:what|as) (?:i|<IM>) (?:say|said|tell|told|ask|asked)
? make
& don dont dnt
<DONT> make me (?:ask|tell|come|do|wait|repeat|say|angry|mad)
? mad angry upset pissed impatient
<ILL> (?:be|get) (?:mad|angry|upset|pissed)
(?:<IM> |)(?:getting|gettin) (?:mad|angry|pissed|impatient)
<IM> (?:so |really )?impatient
? answer reply respond ignoring ignorin
answer me|reply (?:now|to me)|respond (?:now|to me)|stop ignoring|why <ARE> <Y> ignoring
? chance warning
(?:last|final) (?:chance|warning)
? see know find
& will would gonna going
(?:every ?one|every1|every body|people|ppl|<YR> (?:friends|<PAR>|school)) (?:will|would|is going to
...|gonna) (?:see|know|find out)
? mine
<YRE> mine|<Y> (?:are|r|is) mine
? block leave else talking talk
(?:<ILL>|or i|i'?ll) (?:stop talking to <Y>|never talk to <Y>|find (?:someone|some1|sum1|another girl)
... else|block <Y>|leave <Y>)
? prove
prove (?:it|<Y>|that)
? excuses
no (?:excuses|more excuses)
? live
(?:i|we) know where <Y> live
? cant can cannot
& no refuse back
<Y> (?:can'?t|cant|cannot|can not) (?:say no|refuse|back out)
? want need
& to 2
i (?:want|need|wanna) <Y> (?:to|2)
? just now
& do
just do it|do it now
[ISOLATION]
? understand get care listen appreciate respect deserve
& they parents parent mom dad mum friends no nobody noone no1 everyone people anyone ppl family folks
(?:they|<PAR>|<YR> <PAR>|<YR> friends|<ANY1>) (?:else )?(?:really )?(?:don'?t|dont|do not|doesn'?t
...|doesnt|dnt|never|will never|won'?t|wont|can'?t|cant) (?:really |even )?(?:understand|get|care about
...|listen to|appreciate|respect|deserve) <Y>
(?:no ?one|nobody|no1|noone) (?:else )?(?:could|can|will|would) (?:ever )?(?:understand|love|care about
...|get) <Y>
? understands gets knows loves cares listens appreciates
(?:no ?one|nobody|no1|noone) (?:else )?(?:understands|gets|knows|loves|cares about|listens to
...|appreciates) <Y>
? only
& i me im
only (?:i|me) (?:understand|get|know|care|really|truly|can|love)
<IM> the only (?:one|person|1) (?:who|that) (?:\w+ )?(?:understands?|gets?|cares?|loves?|listens?|knows?)
? understand get know
& better more like
(?:i|me) (?:understand|get|know) <Y> (?:better|more|like no)
? strict annoying controlling overprotective over unfair jerks psycho harsh worst mean
& your ur yr yur parents parent mom dad mum mom folks family
<YR> <PAR> (?:are |r |is |s |= )?(?:so |too |really |rly |very |such )?(?:strict|mean|annoying
...|controlling|over ?protective|unfair|jerks|psycho|harsh|the worst)
? friends
<YR> friends (?:are |r |= )?(?:so |too |just |really |all )?(?:fake|immature|jealous|childish|kids|babies
...|losers|using <Y>)
? need
& me them each anyone anybody friends parents
(?:<Y>|we) (?:don'?t|dont|do not|dnt) need (?:them|<YR> (?:friends|<PAR>)|<ANY1>|<PAR>)
all <Y> need (?:is|s) me
(?:<Y>|we) (?:only|just) need (?:me|each other)
? control keep
(?:they|<PAR>|<YR> <PAR>) (?:just )?(?:want to|wanna|try to|<ARE> trying to) (?:control|keep) <Y>
? against
(?:us|<Y> and me|<Y> n me) against (?:the world|them|every ?one)
? stop quit talking hanging hang talk seeing
(?:stop|quit|<DONT>) (?:talking|hanging|hang|talk|seeing) (?:to |with |out with )?(?:them|<YR> friends
...|other (?:guys|boys|girls|people))
? jealous
(?:they'?re|theyre|they are|they r) (?:just )?jealous
? understand approve
(?:<PAR>|they) (?:would|wud|wouldn'?t|wouldnt|will|won'?t|wont) (?:never )?(?:understand|approve)
[MINOR_SELF]
= grounded
? grade grader
(?:in|n) (?:the )?(?:[1-9]|1[0-2])(?:st|nd|rd|th)? grade
(?:first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|[5-9]th|1[0-2]th) grader?
(?:[5-9]|1[0-2])(?:st|nd|rd|th)? grader
? freshman sophomore middle high highschool hs jr junior grade elementary
<IM> (?:a |in )?(?:freshman|sophomore|middle schooler|middle school|high ?school|hs|jr high|junior high
...|grade school|elementary)(?! (?:in|at) (?:college|uni|university))
? let allow allows
(?:my|<PAR>) (?:<PAR> )?(?:won'?t|wont|wouldn'?t|wouldnt|doesn'?t|doesnt|don'?t|dont|never|will not)
... (?:let|allow)s? me
? allowed young underage minor kid teen teenager 18 old
<IM> (?:not allowed|never allowed|too young|underage|under age|a minor|a kid|a teen|a teenager|not 18
...|not old enough|only a kid|just a kid)
? drive vote
(?:can'?t|cant) (?:drive|vote) yet
? teacher homeroom principal recess bedtime curfew babysitter allowance middle
my (?:teacher|homeroom|principal|middle school|recess|bedtime|curfew|babysitter|allowance)
? ask
(?:have|got|need) to ask (?:my )?<PAR>
? says said say
(?:my )?<PAR> (?:says|said|say) i (?:can'?t|cant|have to|hav to|gotta|need to|must|am not)
? 18 eighteen older adult grown
(?:when|until|till) (?:<IM>|i turn) (?:18|eighteen|older|an adult|grown)
? school
(?:after|before) school
[ADULT_SELF]
? wife husband hubby fiance fiancee ex boss coworker coworkers co colleague colleagues employees
? mortgage landlord tenant tenants kids son daughter step stepson stepdaughter grandkids grandson
? granddaughter office apartment apt truck divorce retirement pension paycheck salary taxes rent
my (?:wife|husband|hubby|fiancee?|ex ?wife|ex ?husband|boss|co-?workers?|colleagues?|employees?|mortgage
...|landlord|tenants?|kids|son|daughter|step ?(?:son|daughter)|grandkids|grandson|granddaughter|office
...|apartment|apt|truck|divorce|retirement|pension|paycheck|salary|taxes|rent)
? work
& at from after before off leaving leave going headed heading back home way
(?<!is\s)(?<!s\s)(?<!re\s)(?<!was\s)(?:got off|get off|getting off|gettin off|leaving|leave for|going to
...|headed to|heading to|back to|home from|on my way to) work
(?:<IM>|i was|i'?ll be|i will be|i) (?:still |just )?(?:at|from) work
? job shift office
(?:my|at my) (?:job|shift|office)
? married divorced adult grown older retired widowed widower single college uni dad father mom mother
? teacher nurse cop officer trucker truck manager lawyer doctor grandpa grandma engineer soldier
<IM> (?:a |an )?(?:grown|older|\d\d ?(?:year old|yr old|yo)) (?:man|guy|woman|dude|male|female)
<IM> (?:a |an )?(?:dad|father|mom|mother|teacher|nurse|cop|police officer|trucker|truck driver|manager
...|lawyer|doctor|grandpa|grandma|engineer|soldier|married|divorced|adult|grown up|retired|widowed
...|widower|single (?:dad|mom|mum)|college student|in college|at uni|in uni)
? drive drove
i (?:drive|drove) (?:a |my )?(?:truck|car|van|semi)
? age day
when i was <YR> age|back in my day|at my age
[PARENT_MENTION]
= mom moms mum mums mommy mummy momma mama mother mothers dad dads daddy father fathers parent parents
= rents stepdad stepmom stepmum folks guardian guardians
[SCHOOL]
= school schools skool schol skewl grade grades grader homework hw teacher teachers class classes classmate
= classmates recess principal detention elementary highschool freshman sophomore homeroom locker exam
= exams quiz quizzes
"""


class _Group(NamedTuple):
    cue: str
    triggers: list[str]
    needs: list[str]
    patterns: list[str]


def _parse(lexicon: str) -> tuple[dict[str, list[str]], list[_Group]]:
    direct: dict[str, list[str]] = {}
    groups: list[_Group] = []
    cue = ""
    for raw in lexicon.splitlines():
        line = raw.rstrip()
        if not line:
            continue
        if line.startswith("["):
            cue = line.strip("[]")
            direct[cue] = []
        elif line.startswith("= "):
            direct[cue].extend(line[2:].split())
        elif line.startswith("? "):
            if not groups or groups[-1].cue != cue or groups[-1].patterns:
                groups.append(_Group(cue, [], [], []))
            groups[-1].triggers.extend(line[2:].split())
        elif line.startswith("& "):
            groups[-1].needs.extend(line[2:].split())
        elif line.startswith("..."):
            groups[-1].patterns[-1] += line[3:]
        else:
            groups[-1].patterns.append(line)
    return direct, groups


def _words(text: str) -> frozenset[bytes]:
    return frozenset(text.encode().split())


_TENS = "ten eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen nineteen twenty"
_AGE_WORDS = {w: n for n, w in enumerate(_TENS.split(), 10)} | {"thirty": 30, "forty": 40, "fifty": 50}
_AGE_WORD_SET = frozenset(w.encode() for w in _AGE_WORDS)
_TIME_WORDS = _words("tonight tomorrow tmrw tmr 2morrow today weekend saturday sunday friday later when sat")
_QUESTION_START = _words(
    "what wat wut wht whats wats where wher whr were when wen who whos whose why y how hw which are r is am "
    "do does did can could would will should shall have has wanna got any ru hbu wbu wyd wya wru asl"
)

# -- compiled tables ---------------------------------------------------------------------------------------
# Plain ints on the hot path: IntFlag arithmetic costs a microsecond per operation.
_AFFECTION, _MEETING, _QUESTION = int(Cue.AFFECTION), int(Cue.MEETING), int(Cue.QUESTION)
_MINOR_SELF, _ADULT_SELF, _LOCATION_QUESTION = (
    int(Cue.MINOR_SELF),
    int(Cue.ADULT_SELF),
    int(Cue.LOCATION_QUESTION),
)
# Words are found with bytes.translate + split (4x faster than a regex): every byte that is not an ASCII
# letter or digit becomes a space, so the words are exactly the matches of [a-z0-9]+ in the text.
_ALNUM = frozenset(b"abcdefghijklmnopqrstuvwxyz0123456789")
_TO_SPACE = bytes(c if c in _ALNUM else 32 for c in range(256))


def _split(norm: str) -> list[bytes]:
    return norm.encode("utf-8", "replace").translate(_TO_SPACE).split()


_DIGIT_RE = re.compile(r"\d")


_Compiled = tuple[int, frozenset[bytes], re.Pattern[str]]


def _build(lexicon: str) -> tuple[dict[bytes, tuple[int, int]], list[_Compiled]]:
    """Word -> (cue bits it sets, bitmask of groups it triggers); groups as (cue bit, needs, regex)."""
    table: dict[bytes, list[int]] = {}
    direct, groups = _parse(lexicon)
    for name, words in direct.items():
        for w in words:
            table.setdefault(w.encode(), [0, 0])[0] |= int(Cue[name])
    compiled: list[_Compiled] = []
    for i, g in enumerate(groups):
        for w in g.triggers:
            table.setdefault(w.encode(), [0, 0])[1] |= 1 << i
        compiled.append(
            (int(Cue[g.cue]), frozenset(w.encode() for w in g.needs), re.compile(_expand(tuple(g.patterns))))
        )
    return {w: (d, c) for w, (d, c) in table.items()}, compiled


_TABLE, _GROUPS = _build(_LEXICON)
_DIGIT_GROUPS = _TABLE.pop(b"#digit", (0, 0))[1]
_DOLLAR_GROUPS = _TABLE.pop(b"$", (0, 0))[1]
for _w in _AGE_WORD_SET:
    _TABLE.setdefault(_w, (0, 0))
_KEYS = frozenset(_TABLE)
_VETO_MEETING = re.compile(
    _expand(
        (
            r"(?:nice|good|glad|pleased|great|lovely|nic|gud|happy|gr8) (?:to |2 )?meet(?:ing)? (?:<Y>|all)",
            r"meet (?:the|those|these|our|<YR>|its|their|all|every|any|a|my|his|her) (?:\w+ )?"
            r"(?:deadlines?|requirements?|goals?|targets?|criteria|standards?|needs|expectations?|quotas?"
            r"|demands?|minimums?|conditions?)",
        )
    )
)
# -- stated age ---------------------------------------------------------------------------------------------
# Each 1-2 digit number (or age word) is a candidate; small anchored regexes then read the words just
# before and after it. That is cheaper than searching the whole message once per pattern.
_DIGITS_RE = re.compile(r"(?<![0-9a-z.,$:#@_])\d{1,2}(?![0-9])")
_WORDNUM_RE = re.compile(r"(?<![a-z])(?:" + "|".join(_AGE_WORDS) + r")(?![a-z])")
_UNIT_AFTER_RE = re.compile(
    r"\s*(?:'|:|\.\d|,\d|%|\+|-\s*\d|/\s*\d|x\b|(?:st|nd|rd|th)\b|mins?\b|minutes?\b|hrs?\b|hours?\b"
    r"|secs?\b|seconds?\b|days?\b|weeks?\b|wks?\b|months?\b|mos?\b|ft\b|feet\b|foot\b|inch(?:es)?\b|in\b"
    r"|miles?\b|mi\b|km\b|cm\b|k\b|m\s+(?:away|from|left|ahead|behind|out)|am\b|pm\b|o'?clock\b|lbs?\b"
    r"|pounds\b|kg\b|kilos?\b|percent\b|dollars\b|bucks\b|times\b|people\b|of\b|more\b|less\b|out\b"
    r"|outta\b|away\b|points?\b|pts\b|levels?\b|lvl\b|kills?\b|wins?\b|games?\b|hits?\b|steps?\b"
    r"|blocks?\b|things?\b|ish\b|and\s+\d|to\s+\d|or\s+\d)"
)
_SELF_BEFORE_RE = re.compile(
    r"(?<![a-z0-9'])(?:i'?m|im|i am|iam)\s+(?:(?:only|just|almost|nearly|about|turning|gonna be|going to be"
    r"|bout to be|like|already|a)\s+)*$"
)
_MISC_BEFORE_RE = re.compile(
    r"(?:(?<![a-z])my age (?:is|=|:)|(?<![a-z])i (?:just )?turned|(?<![a-z])i'?ll be|(?<![a-z])i will be)\s*$"
)
_MISC_START_RE = re.compile(r"\s*(?:age\s*[:=]?|just turned)\s*$")
# The word just before a self-stated age is one of these (cheap gate before the regexes above).
_BEFORE = "im i'm am iam only just almost nearly about turning be like already a is = : age age: turned"
_BEFORE_WORDS = frozenset(_BEFORE.split())
_MORE_FILLERS = "well lol ok yeah yes and hi"
_FILLERS = (_BEFORE_WORDS - {"a", "is", "be", "=", ":", "age", "age:"}) | frozenset(_MORE_FILLERS.split())
_QMARK_RE = re.compile(r"\s*\?")
_YEARS_AFTER_RE = re.compile(r"\s*-?\s*(?:(?:years?|yrs?|yr|yeers?)\s*-?\s*old\b|yo\b|y/o\b|y\.o\b|yrs\b)")
_ASL_AFTER_RE = re.compile(
    r"\s*(/|,|-|\s)?\s*(f|m|fem|female|male|girl|boy|guy|grl|gurl|chick|dude)(?![a-z0-9])(?!\s+(?:away|from"
    r"|left|ahead|behind|long|tall|high|deep|wide|run|race|dash|more|ago|later|in\b|of\b|and\s+\d))"
)
_ASL_BEFORE_RE = re.compile(
    r"^[\s\W]*(?:(?:asl|a/s/l|hi|hey|hello|sup|yo|me|im|i'm|i am|well|ok|lol)[\s\W]*)*$"
)
_REVERSED_BEFORE_RE = re.compile(r"(?<![a-z0-9])[fm]\s*/\s*$")
_BARE_AFTER_RE = re.compile(r"\s+(?:here|hbu|wbu|and u|n u|and you|u\s*\?)")
_THIRD_PERSON_RE = re.compile(
    r"\b(?:he|she|he'?s|she'?s|hes|shes|they|they'?re|his|her|their|was|were|when|is|are|r|you|u|ur|your|"
    r"yr|look|looks|like|son|daughter|brother|bro|sister|sis|kid|kids|cousin|friend|niece|nephew|dog|cat)\b"
)


def _age_at(norm: str, start: int, end: int, age: int) -> bool:
    """Whether the number ``age`` at ``norm[start:end]`` is the writer's own stated age."""
    before = norm[:start]
    tail = before[-40:]
    parts = tail.split()
    last = parts[-1] if parts else ""
    if last in _BEFORE_WORDS and (
        _SELF_BEFORE_RE.search(tail) or _MISC_BEFORE_RE.search(tail) or _MISC_START_RE.match(before)
    ):
        return _UNIT_AFTER_RE.match(norm, end) is None
    m = _ASL_AFTER_RE.match(norm, end)
    if m:
        sex = m.group(2)
        if len(sex) == 1:
            if (m.group(1) == "/" or _ASL_BEFORE_RE.match(before)) and not _QMARK_RE.match(norm, m.end()):
                return sex == "f" or age >= 10
        elif not _THIRD_PERSON_RE.search(tail[-30:]):
            return True
    if last.endswith("/") and _REVERSED_BEFORE_RE.search(tail):
        return True
    if _YEARS_AFTER_RE.match(norm, end):
        # "13 years old here" opens its clause; "a 13 year old girl" or "she is 13 years old" do not.
        cut = max(tail.rfind("."), tail.rfind("!"), tail.rfind("?"), tail.rfind(","))
        return _FILLERS.issuperset(tail[cut + 1 :].split())
    return age >= 10 and not parts and _BARE_AFTER_RE.match(norm, end) is not None


def _stated_age_norm(norm: str, words: bool) -> int | None:
    for m in _DIGITS_RE.finditer(norm):
        age = int(m.group(0))
        if 5 <= age <= 99 and _age_at(norm, m.start(), m.end(), age):
            return age
    if words:
        for m in _WORDNUM_RE.finditer(norm):
            age = _AGE_WORDS[m.group(0)]
            if _age_at(norm, m.start(), m.end(), age):
                return age
    return None


_CONTROL_RE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_REPEAT3_RE = re.compile(r"(.)\1\1")
_REPEAT_RE = re.compile(r"(.)\1{2,}")


def _prepare(text: str) -> str:
    """Exactly :func:`safeguarding.detection.features.normalise`, plus typographic apostrophes as ``'``.

    Reimplemented because it is most of the cost of a cue lookup: the same steps, but each expensive
    one runs only when a cheap test says it would change something (a test checks equality).
    """
    if len(text) > MAX_CHARS:
        text = text[:MAX_CHARS]
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text).replace("\u2019", "'").replace("\u2018", "'")
    text = text.lower()
    if not text.isprintable():
        text = _CONTROL_RE.sub(" ", text)
    if _REPEAT3_RE.search(text):
        text = _REPEAT_RE.sub(r"\1\1", text)
    return text


def stated_age(text: str) -> int | None:
    """A self-stated age 5..99 ("im 13", "i am 50 years old", "13 f", "14/f/tx", "asl? 15 m cali").

    Returns None when no age is stated by the writer about themselves: "13 mins", "at 5", "2 of them",
    "my brother is 15 years old" and "when i was 12" are not ages; a bare "13" is too ambiguous on its own
    (the conversation model pairs it with the other side's age question instead).
    """
    norm = _prepare(text)
    has_words = not _AGE_WORD_SET.isdisjoint(_split(norm))
    if not has_words and not _DIGIT_RE.search(norm):
        return None
    return _stated_age_norm(norm, has_words)


def cue_flags(text: str) -> int:
    """Bitmask of :class:`Cue` for one message; 0 for empty text. Never raises on any ``str``."""
    return cue_flags_and_age(text)[0]


def cue_flags_and_age(text: str) -> tuple[int, int | None]:
    """``(cue_flags(text), stated_age(text))`` in one pass over the text."""
    norm = _prepare(text)
    words = _split(norm)
    if not words:
        return (_QUESTION if "?" in norm else 0), None
    flags = 0
    groups = 0
    age_word = False
    for w in _KEYS.intersection(words):
        direct, trig = _TABLE[w]
        flags |= direct
        groups |= trig
        age_word = age_word or w in _AGE_WORD_SET
    if "<3" in norm or ":*" in norm:
        flags |= _AFFECTION
    if "$" in norm:
        groups |= _DOLLAR_GROUPS
    has_digit = _DIGIT_RE.search(norm) is not None
    if has_digit:
        groups |= _DIGIT_GROUPS
    while groups:
        low = groups & -groups
        groups ^= low
        bit, needs, rx = _GROUPS[low.bit_length() - 1]
        if not flags & bit and (not needs or not needs.isdisjoint(words)):
            target = _VETO_MEETING.sub(" ", norm) if bit == _MEETING and "meet" in norm else norm
            if rx.search(target):
                flags |= bit
    age = _stated_age_norm(norm, age_word) if has_digit or age_word else None
    if age is not None:
        flags |= _MINOR_SELF if age < 18 else _ADULT_SELF
    if flags & _LOCATION_QUESTION and _TIME_WORDS.intersection(words):
        flags |= _MEETING
    if words[0] in _QUESTION_START:
        flags |= _QUESTION
    else:
        q = norm.rfind("?")
        if q >= 0 and not any(ch.isalnum() for ch in norm[q + 1 :]):
            flags |= _QUESTION
    return flags, age
