"""The after-sale resolution ladder: an agent offers resolutions, the shopper accepts one.

An offer names the problem, the order's value and currency, and at least two resolutions, each
within the shop's range for it (``playbook.toml``) and within the agent's role limit. It is
stored in the conversation's log (``resolutions_offered``: the widget shows it as buttons) and on
the record (``resolution_offer``). The shopper accepting one, or the agent recording it on their
behalf, stores ``resolution_accepted`` with its amount, and the record's ``resolution`` (reports).
"""

from __future__ import annotations

from chatserver.core.chats import Chats
from chatserver.core.sessions import Session
from chatserver.core.shopper import Handler
from chatserver.domain import protocol as p
from chatserver.domain.errors import InvalidFrame, NotAllowed
from chatserver.domain.playbook import Playbook, amount


def priced_options(
    playbook: Playbook, role: str, order_value: float, offered: list[p.OfferedOption]
) -> list[p.ResolutionOption]:
    """The offered options checked against the ladder and the role's limit, cheapest first.

    Raises:
        InvalidFrame: a kind twice, or a percent outside that resolution's range.
        NotAllowed: a percent above what the role may offer.
    """
    kinds = [o.kind for o in offered]
    if len(set(kinds)) != len(kinds):
        raise InvalidFrame("offer each resolution once")
    limit = playbook.limit(role)
    options = []
    for option in offered:
        low, high = getattr(playbook.ladder, option.kind)
        if not low <= option.percent <= high:
            raise InvalidFrame(
                f"{option.kind}: {option.percent:g}% is outside the shop's range "
                f"{low:g}-{high:g}% of the order"
            )
        if option.percent > limit:
            raise NotAllowed(
                f"{option.kind} at {option.percent:g}% is above your limit as {role} "
                f"({limit:g}% of the order): ask a manager"
            )
        options.append(
            p.ResolutionOption(
                kind=option.kind,
                percent=option.percent,
                amount=amount(order_value, option.percent),
            )
        )
    return sorted(options, key=lambda o: o.amount)


async def offer_resolutions(chats: Chats, session: Session, frame: p.OfferResolutions) -> None:
    """Offer the shopper at least two resolutions; each within the ladder and the role limit."""
    conversation = await chats.own(session, frame.conversation_id)
    if conversation.status == "closed":
        raise NotAllowed(f"conversation {conversation.id} is closed")
    if conversation.resolution is not None:
        raise NotAllowed("this problem is settled: a resolution was accepted")
    account = await chats.accounts.get(session.user_id)
    role = account.role if account is not None else "agent"
    options = priced_options(chats.playbook, role, frame.order_value, list(frame.options))
    offer = {
        "problem": frame.problem,
        "order_value": frame.order_value,
        "currency": frame.currency,
        "options": [o.model_dump(mode="json") for o in options],
    }
    # The record gets the offer in the same write as the event, so a shopper who sees it can
    # accept it at once; its seq, known only once stored, is added to the record right after.
    stored = await chats.journal.post(
        conversation.id,
        p.ResolutionsOffered,
        record=conversation.model_copy(update={"resolution_offer": offer}).fields(
            "resolution_offer"
        ),
        by_id=session.user_id,
        problem=frame.problem,
        order_value=frame.order_value,
        currency=frame.currency,
        options=options,
        client_id=frame.client_id,
    )
    if not stored.duplicate:
        await chats.journal.update(conversation, resolution_offer={**offer, "seq": stored.seq})
    chats.ack(session, conversation.id, frame.client_id, stored)


async def accept_resolution(chats: Chats, session: Session, frame: p.AcceptResolution) -> None:
    """Record the resolution the shopper accepts (an agent may record it for them)."""
    conversation = await chats.own(session, frame.conversation_id)
    offer = conversation.resolution_offer
    if offer is None or offer.get("seq", frame.offer_seq) != frame.offer_seq:
        raise NotAllowed(f"no current offer at seq {frame.offer_seq}: the agent made a newer one")
    if conversation.resolution is not None:
        raise NotAllowed("a resolution was already accepted")
    options = [p.ResolutionOption.model_validate(o) for o in offer["options"]]
    chosen = next((o for o in options if o.kind == frame.kind), None)
    if chosen is None:
        raise InvalidFrame(f"{frame.kind} was not offered")
    cheapest = chosen.amount <= min(o.amount for o in options)
    resolution = {
        "problem": offer["problem"],
        "kind": chosen.kind,
        "percent": chosen.percent,
        "amount": chosen.amount,
        "currency": offer["currency"],
        "order_value": offer["order_value"],
        "cheapest": cheapest,
        "offered": len(options),
    }
    await chats.journal.post(
        conversation.id,
        p.ResolutionAccepted,
        record=conversation.model_copy(update={"resolution": resolution}).fields("resolution"),
        offer_seq=frame.offer_seq,
        by=session.role,
        by_id=session.user_id,
        problem=offer["problem"],
        resolution=chosen.kind,
        percent=chosen.percent,
        amount=chosen.amount,
        currency=offer["currency"],
        order_value=offer["order_value"],
        cheapest=cheapest,
    )


SHOPPER: dict[type[p.Frame], Handler] = {p.AcceptResolution: accept_resolution}
AGENT: dict[type[p.Frame], Handler] = {
    p.OfferResolutions: offer_resolutions,
    p.AcceptResolution: accept_resolution,
}
