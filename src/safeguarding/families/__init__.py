"""Families: what a linked parent may see and set, and what the child is told — as pure, typed rules.

- :mod:`.controls` — the parental controls the engine's policy reads, and the platform's family settings.
- :mod:`.notices` — the safety notices a child gets in the moment (first contact from an adult they are
  not connected with, a request to move apps, to keep a secret, to meet), decided from the contact's
  facts and the message's cues.
- :mod:`.wording` — plain-language texts for children and parents, and where to get help.
- :mod:`.contacts` — who a child talks to, ranked newest and riskiest first, for the parent view.

The service (``safeguarding.service.family``) and the pages (``safeguarding.web``) are thin adapters over
these; nothing here reads a database or a request. Parents see *who*, never *what*, by default (ICO
Children's Code, standard 11), and the child always sees that oversight is on.
"""

from safeguarding.families.controls import ApprovalRequest, Control, FamilySettings
from safeguarding.families.notices import ChildNotice, NoticeKind

__all__ = ["ApprovalRequest", "ChildNotice", "Control", "FamilySettings", "NoticeKind"]
