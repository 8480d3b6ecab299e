"""Simulated customer messages: one realistic text per interaction row.

:func:`render_texts` writes chats, emails, call transcripts and tickets about a planted root
cause (and optionally a second one), with planted competitor mentions, escalation requests,
pre-churn language and PII, plus look-alike decoys ("I don't want to cancel, just fix it"),
paraphrases that avoid the usual keywords, and a few typos, so that signal extractors are
tested honestly rather than against their own keyword lists.

Rendering is vectorised: every random choice is drawn up front with numpy (one draw per row
per decision, so the result depends only on the inputs and the generator state), each row's
message skeleton is assembled from template strings, and one ``str.format_map`` per row fills
the slots (amounts, dates, order ids, products, durations, PII...). No regex runs per row.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt

from cximpact.errors import ContractError

__all__ = [
    "CHANNELS",
    "COMPETITORS",
    "HARMFUL_CANDIDATES",
    "HARMLESS_CANDIDATES",
    "OTHER",
    "ROOT_CAUSES",
    "render_texts",
]

HARMFUL_CANDIDATES: Final[tuple[str, ...]] = (
    "billing_error",
    "unexpected_fee",
    "network_outage",
    "slow_refund",
    "late_delivery",
    "app_login",
    "product_defect",
    "long_wait",
)
"""Root causes that plausibly drive churn."""

HARMLESS_CANDIDATES: Final[tuple[str, ...]] = (
    "address_update",
    "plan_question",
    "payment_method_update",
)
"""Root causes that are usually routine requests."""

ROOT_CAUSES: Final[tuple[str, ...]] = HARMFUL_CANDIDATES + HARMLESS_CANDIDATES
"""Every simulated root cause (the shared topic ids), harmful candidates first."""

OTHER: Final = "other"
"""Topic of an out-of-scope message; accepted by :func:`render_texts` as a topic."""

COMPETITORS: Final[tuple[str, ...]] = (
    "Verizon",
    "T-Mobile",
    "AT&T",
    "Comcast Xfinity",
    "Brightwave",
)
"""Canonical competitor names mentioned (the taxonomy's canonical names)."""

CHANNELS: Final[tuple[str, ...]] = ("chat", "email", "call", "ticket")
"""Writing styles; other channel values are mapped by :data:`_CHANNEL_ALIASES` or to ticket."""

_CHANNEL_ALIASES: Final[dict[str, str]] = {
    "chat": "chat",
    "sms": "chat",
    "messaging": "chat",
    "social": "chat",
    "email": "email",
    "e-mail": "email",
    "mail": "email",
    "call": "call",
    "phone": "call",
    "voice": "call",
    "ticket": "ticket",
    "web": "ticket",
    "form": "ticket",
}

TYPO_RATE: Final = 0.04
CHURN_DECOY_RATE: Final = 0.10
ESCALATION_DECOY_RATE: Final = 0.04
CONTEXT_RATE: Final = 0.45
LOWERCASE_CHAT_RATE: Final = 0.3
ASR_CALL_RATE: Final = 0.5
TOPIC_SUBJECT_RATE: Final = 0.6

# --------------------------------------------------------------------------------------------
# Phrase bank: what customers say about each root cause. Slots in braces are filled per row.
# Roughly a quarter of the templates per topic paraphrase the problem without its obvious
# words, and some mention a neighbouring topic in passing, as real messages do.
# --------------------------------------------------------------------------------------------

_CORE: Final[dict[str, tuple[str, ...]]] = {
    "billing_error": (
        "I was charged twice for my {month} bill, {amount} came out of my account two times.",
        "My bill this month is {amount} but it's normally {amount2}. Something is off with it.",
        "You overcharged me {amount} on my last statement.",
        "There's a duplicate charge of {amount} on my card from {date}.",
        "I'm still being charged {amount} for a service I stopped using back in {month}.",
        "The discount wasn't applied, I'm paying {amount} instead of {amount2}.",
        "Why is my invoice {amount}? The quoted price was {amount2} a month.",
        "I see two identical payments of {amount} on {date} for the same invoice.",
        "I've been double charged for order {order}.",
        "My statement shows a charge of {amount} that doesn't match what I agreed to.",
        "The amount on my bill is wrong, it should be {amount2} not {amount}.",
        "You took {amount} from my account when my balance was already paid in full.",
        "There's a billing mistake, I was billed for two lines but I only have one.",
        "There is an incorrect charge on my account for {amount}.",
        "I keep getting charged for device protection even though I removed it in {month}.",
        "I've been double charged, the automatic withdrawal pulled {amount} twice this month.",
        "Your system billed me twice for the same month.",
        "I was charged the wrong amount, {amount} when the website said {amount2}.",
        "The bill says I owe {amount} but I paid it on {date}, someone made a mistake.",
    ),
    "unexpected_fee": (
        "What is this {amount} fee on my bill? Nobody told me about it.",
        "There's a {fee_name} of {amount} that I never agreed to.",
        "I was hit with a late fee even though I paid on {date}.",
        "Why am I paying a {amount} service charge every month?",
        "My bill went up by {amount} and I wasn't told why.",
        "There's a new line on my bill called '{fee_label}' for {amount}, what is that?",
        "You added a {amount} paper statement fee without asking me.",
        "I got charged an activation fee of {amount}, the sales rep said it was free.",
        "Nobody mentioned a restocking charge when I returned the {product}.",
        "Since {month} I'm paying {amount} more per month for exactly the same thing.",
        "There's an overdraft charge of {amount} on my account, I was never notified.",
        "Why did you charge me {amount} just for paying over the phone?",
        "Apparently the fine print allows a {amount} 'convenience' charge. That's sneaky.",
        "There's a {amount} penalty on my bill for going one day past the due date.",
        "Where did this {amount} early termination charge come from? My contract was finished.",
        "My price jumped from {amount2} to {amount} with zero heads-up.",
        "Hidden fees everywhere. {amount} for 'processing' on a {amount2} bill.",
        "I see a surcharge of {amount} on the {month} invoice that was never disclosed.",
        "Every month there's a random extra charge of {amount} that nobody can explain.",
    ),
    "network_outage": (
        "My internet has been down since {date}.",
        "No signal at all at home for {n_days} days now.",
        "Calls keep dropping every few minutes.",
        "The wifi keeps cutting out, I work from home and can't get anything done.",
        "Is there an outage in {city}? Nothing is loading.",
        "The internet is slow, I'm paying for 500 Mbps and getting 3.",
        "My phone says no service since this morning.",
        "I can't make or receive calls at my house anymore.",
        "The connection drops every evening around 7pm.",
        "We have had no internet for {duration}.",
        "Video calls freeze and pages won't load, it's been like this all week.",
        "The router light is blinking red and nothing works.",
        "Mobile data stopped working after the update.",
        "Every time it rains my line goes dead.",
        "Your network is down again in my area.",
        "I lose connection several times a day.",
        "My streaming keeps buffering and the signal is weak.",
        "The service has been unreliable for weeks, it goes off and on constantly.",
        "Half the time I have one bar of signal and texts don't go through.",
    ),
    "slow_refund": (
        "I returned the {product} on {date} and still haven't got my refund.",
        "Where is my refund for order {order}? It's been {n_days} days.",
        "You promised the money back within 5 business days. It's been {weeks} weeks.",
        "I'm still waiting on the {amount} you owe me.",
        "The reimbursement for {order} still hasn't shown up.",
        "I was told a credit of {amount} would be applied but I don't see it anywhere.",
        "My refund was approved on {date} but nothing has hit my bank yet.",
        "I sent the item back a month ago and I'm still out {amount}.",
        "How long does it take to get money back? I cancelled my order {n_days} days ago.",
        "The return was processed but I haven't been paid back.",
        "Please refund the {amount} you said you would refund.",
        "Your agent said they'd reverse the charge, still nothing.",
        "You took the {product} back, so where's my {amount}?",
        "{n_days} days and still no refund. This is taking far too long.",
        "I need my refund of {amount} returned to my card, it has been {weeks} weeks.",
        "The chargeback I requested on {date} is still pending.",
        "When will I see the reimbursment? I was told {n_days} days.",
        "The {amount} credit back to my card that was confirmed on {date} never showed up.",
        "It shouldn't take {weeks} weeks to give a customer their {amount} back.",
    ),
    "late_delivery": (
        "My order {order} was supposed to arrive on {date} and it's still not here.",
        "Where is my package? Tracking hasn't updated in {n_days} days.",
        "The delivery is {n_days} days late.",
        "I've been waiting for my {product} for {weeks} weeks.",
        "The courier says delivered but nothing came.",
        "Order {order} still says processing after a week, when will it be shipped?",
        "The {product} I ordered on {date} never arrived.",
        "Your shipping is painfully slow.",
        "It has said out for delivery for three days now.",
        "I paid for express shipping and it's taking longer than standard would have.",
        "The technician never showed up for the install on {date}.",
        "My parcel was sent to the wrong address.",
        "I needed the {product} for {date} and it still hasn't turned up.",
        "Status has said 'in transit' since {date}.",
        "I ordered a {product} {weeks} weeks ago and have nothing to show for it.",
        "The estimated delivery date keeps changing, first {date} and now next week.",
        "Package {order} is stuck somewhere, can you check with the carrier?",
        "Why does it take {n_days} days to get a {product} to me?",
        "Still no sign of order {order}. It was meant to be delivered by {date}.",
    ),
    "app_login": (
        "I can't log in to the app, it says my password is incorrect.",
        "I'm locked out of my account after too many attempts.",
        "The verification code never comes through by text.",
        "Your app keeps crashing when I try to look at my bill.",
        "I reset my password three times and still can't sign in.",
        "The website won't let me into my account, it just spins.",
        "Since the last update the app won't open on my phone.",
        "Face ID stopped working in your app.",
        "I never get the 2FA text, so I'm stuck at the login screen.",
        "My username isn't recognized even though I've had this account for years.",
        "Every time I enter my details it sends me back to the start page.",
        "The online account page shows an error and kicks me out.",
        "I can't get into my account online, it says my details don't match.",
        "The one-time code expires before it even reaches me.",
        "I've been logged out and can't get back in.",
        "I'm stuck on a spinning wheel in the app every single time.",
        "I changed phones and now the app doesn't recognise me.",
        "It keeps asking me to verify my identity and then fails.",
        "The sign-in page says 'something went wrong' no matter what I do.",
    ),
    "product_defect": (
        "The {product} I bought stopped working after {n_days} days.",
        "My {product} arrived broken.",
        "The screen on my new {product} is cracked.",
        "The {product} won't turn on at all, it's brand new.",
        "The {product} overheats after a few minutes.",
        "The battery drains in about an hour.",
        "This is really poor quality, the handle came off on day one.",
        "The {product} makes a weird grinding noise.",
        "I received the wrong item, I ordered a {product}.",
        "There are parts missing from the box.",
        "The {product} is defective and I want a replacement.",
        "It only runs for a few minutes and then just dies.",
        "The charger doesn't work with the {product}.",
        "Water is leaking from the bottom of the {product}.",
        "The {product} is falling apart after {weeks} weeks of normal use.",
        "The buttons are unresponsive half the time.",
        "It's nothing like the pictures, the finish is peeling off.",
        "Is the {product} still under warranty? It's faulty.",
        "The {product} switches itself off randomly and overheats.",
    ),
    "long_wait": (
        "I was on hold for {duration} before anyone picked up.",
        "I've called three times and nobody answers.",
        "Your wait times are ridiculous.",
        "I've been in the chat queue for {duration}.",
        "I emailed on {date} and got no response.",
        "You promised to call me back and never did.",
        "I spent {duration} on the phone and got transferred four times.",
        "I've been trying to reach someone since {date}.",
        "It took {duration} in the queue just to speak to a human.",
        "Nobody gets back to me, I've sent {n_msgs} messages.",
        "The callback you scheduled never happened.",
        "I keep getting passed around between departments.",
        "Your phone line just rings and rings.",
        "I've been waiting for an agent for over {duration}.",
        "The response time is awful, it took {n_days} days to get a reply to a simple email.",
        "The chat bot goes in circles and I can never reach a real person.",
        "I waited {duration} and then the call dropped.",
        "Why does it take forever to get anyone on the line?",
        "Sat on hold listening to the same music for {duration} today.",
    ),
    "address_update": (
        "I've moved and need to update my address.",
        "Can you change the billing address on my account to {street}?",
        "We're relocating to {city} next month, how do I take my service with me?",
        "Please update my mailing address, I'm now at {street}.",
        "My zip code is wrong on the account, it should be {zip}.",
        "I'm moving house on {date}, what do I need to do?",
        "Can the service be set up at my new apartment?",
        "My new home address is {street}, {city}.",
        "Please note my new details: {street}, {city} {zip}.",
        "I just bought a place in {city}, can the service come with me?",
        "How do I change where my statements get sent?",
        "The house number on my account is wrong, it's {house_no} not {house_no2}.",
        "I need the address for future orders changed to {street}.",
        "Can I update my contact address online or do I need to call?",
        "I'm moving out of state, will my service still work in {city}?",
        "Change of address please: {street}, {city} {zip}.",
        "We've relocated and the post is still going to the old place.",
    ),
    "plan_question": (
        "What plans do you have with unlimited data?",
        "Can I upgrade my plan to {plan}?",
        "How much would it cost to add a line for my daughter?",
        "Does my plan include international roaming?",
        "I'd like to downgrade to something cheaper.",
        "When does my contract end?",
        "Is there a family plan that would save us money?",
        "What's included in the {plan} package?",
        "Am I eligible for a new phone yet?",
        "What's the difference between {plan} and {plan2}?",
        "How much data do I get each month?",
        "Do you have any deals for students or seniors?",
        "Can I add a streaming add-on to my account?",
        "What happens when I go over my data allowance?",
        "I'm thinking about changing to {plan}, what would my monthly price be?",
        "Could you explain the features of the {plan} tier?",
        "Is there a plan with more hotspot data?",
        "What's the interest rate on the savings account?",
    ),
    "payment_method_update": (
        "I need to update the card on file, the old one expired.",
        "Can I switch to autopay from my bank account?",
        "I got a new debit card, how do I update my payment details?",
        "My card expires next month, where do I change it?",
        "Please set up direct debit for my bill.",
        "I want to pay with PayPal instead of my card.",
        "Remove my old Visa and use my Mastercard ending {last4}.",
        "How do I change the bank details my payments come from?",
        "The payment method on my account is out of date.",
        "Can I add a second card as a backup?",
        "My bank changed my account number, I need to update it.",
        "I'd like to turn on automatic payments.",
        "Can I use Apple Pay to pay my bill?",
        "I lost my wallet so please remove the card on my account.",
        "What's the easiest way to update my payment info?",
        "I want to stop paying by check and pay by card instead.",
        "Please use my new credit card for future payments.",
        "My autopay failed because the card expired.",
    ),
    OTHER: (
        "What are your opening hours on Sunday?",
        "Do you have a store near {city}?",
        "I just wanted to say thanks, {agent} was really helpful last time.",
        "Can I get a copy of my contract?",
        "How do I recycle my old {product}?",
        "Do you sell gift cards?",
        "Is your company hiring in {city}?",
        "Please take me off your marketing emails.",
        "Who do I talk to about a sponsorship request?",
        "Can you tell me what my account number is?",
        "Do you have information in Spanish?",
        "I'd like to give feedback about the new store layout.",
        "Is there a student discount on accessories?",
        "What's the best way to contact you on weekends?",
        "Can someone tell me how to set up voicemail?",
    ),
}

_SECOND: Final[dict[str, tuple[str, ...]]] = {
    "billing_error": (
        "I was also charged twice last month",
        "my last bill was wrong too",
        "there's a double charge of {amount} I still need sorted",
        "you overcharged me {amount} in {month}",
        "the amount you billed me doesn't match my plan price",
    ),
    "unexpected_fee": (
        "there's a {fee_name} on my bill that nobody mentioned",
        "I was hit with a {amount} fee I never heard about",
        "my bill has some extra charge of {amount} I don't understand",
        "you've started adding a service charge",
        "I still don't know what the {amount} '{fee_label}' line is",
    ),
    "network_outage": (
        "my internet keeps dropping out",
        "I have no signal half the time",
        "there was another outage on {date}",
        "the wifi has been terrible all week",
        "calls cut off constantly",
    ),
    "slow_refund": (
        "I'm still waiting for my refund of {amount}",
        "the refund for order {order} never came through",
        "you still owe me {amount}",
        "I never got my money back for the return",
        "the reimbursement you promised hasn't arrived",
    ),
    "late_delivery": (
        "my order {order} still hasn't arrived",
        "the replacement was never delivered",
        "the package is {n_days} days late",
        "tracking hasn't moved since {date}",
        "the courier lost my parcel",
    ),
    "app_login": (
        "I can't even log in to the app to check",
        "the app keeps crashing",
        "your website locked me out",
        "the password reset doesn't work",
        "I never receive the verification code",
    ),
    "product_defect": (
        "the {product} is broken",
        "the {product} you sent is defective",
        "the {product} stopped working after {n_days} days",
        "the screen is cracked",
        "the {product} is really poor quality",
    ),
    "long_wait": (
        "I was on hold for {duration}",
        "nobody answers the phone",
        "I waited {duration} in the chat queue",
        "I emailed twice and got no response",
        "you never called me back",
    ),
    "address_update": (
        "I need to update my address",
        "I've moved to {city}",
        "please change my billing address to {street}",
        "my zip code is wrong on file",
        "I'm moving house next month",
    ),
    "plan_question": (
        "can I upgrade to {plan}",
        "what plans do you have",
        "is there a cheaper plan",
        "does my plan include roaming",
        "how much is the {plan} plan",
    ),
    "payment_method_update": (
        "I need to update my card on file",
        "can I set up autopay",
        "my card expired",
        "I want to change my payment method",
        "please switch my payments to direct debit",
    ),
    OTHER: (
        "what are your opening hours",
        "do you sell gift cards",
        "I'd like a copy of my contract",
    ),
}

_SECOND_PREFIX: Final = ("Also, ", "On top of that, ", "And ", "Plus, ", "Separately, ", "Oh and ")

_COMPETITOR_FORMS: Final[dict[str, tuple[str, ...]]] = {
    "Verizon": ("Verizon", "verizon", "Verizon Wireless", "VZW"),
    "T-Mobile": ("T-Mobile", "tmobile", "t mobile", "T-Mo"),
    "AT&T": ("AT&T", "att", "AT and T", "At&t"),
    "Comcast Xfinity": ("Xfinity", "Comcast", "xfinity"),
    "Brightwave": ("Brightwave", "BrightWave", "brightwave"),
}

_COMPETITOR: Final = (
    "{comp} offered me the same thing for {amount} less.",
    "I'm seriously thinking about going to {comp}.",
    "My neighbour has {comp} and never has these problems.",
    "{comp} has a deal right now that's way cheaper.",
    "Honestly {comp} treated me better.",
    "Why is {comp} half the price?",
    "A {comp} rep called me yesterday with an offer.",
    "Even {comp} isn't this bad.",
    "{comp} is giving new customers {amount} off.",
    "My brother pays less with {comp} for more data.",
)

_ESCALATION: Final = (
    "Let me talk to your manager.",
    "I want to speak to a supervisor.",
    "I'll file a complaint with the FCC.",
    "I'm reporting this to the Better Business Bureau.",
    "My lawyer will be hearing about this.",
    "Escalate this now.",
    "I want to make a formal complaint.",
    "If this isn't sorted I'm taking legal action.",
    "Put me through to someone senior.",
    "Get me someone who can actually make a decision.",
    "I'm going to post about this everywhere until somebody with authority responds.",
    "I'll be contacting the consumer protection office.",
    "I want this passed to your supervisor today.",
    "I'm writing to the ombudsman if I don't hear back.",
)

_ESCALATION_DECOY: Final = (
    "I don't want to escalate this, I just want it fixed.",
    "No need to get a manager involved.",
    "I'm not going to file a complaint, I just want it sorted.",
    "I don't need to speak to a supervisor, just help me please.",
)

_CHURN: Final = (
    "I'm done, cancel everything.",
    "If this isn't fixed by {date} I'm switching providers.",
    "I want to close my account.",
    "Consider this your last chance.",
    "I'm porting my number out this week.",
    "I'll be taking my business elsewhere.",
    "Cancel my service today.",
    "I'm leaving as soon as my contract is up.",
    "I'm ready to walk away from you guys.",
    "You're about to lose a long-time customer.",
    "Start the disconnection process.",
    "Please send me whatever form I need to cancel.",
    "I've had enough, I'm out.",
    "Don't bother trying to keep me, I'm leaving.",
)

_CHURN_WITH_COMPETITOR: Final = (
    "I'm switching to {comp}.",
    "{comp} is getting my business from now on.",
    "I'm taking everything over to {comp} next week.",
    "Cancel my account, I'm going with {comp}.",
)

_CHURN_DECOY: Final = (
    "I don't want to cancel, just fix it.",
    "I'm not leaving yet but I'm getting close.",
    "I have no intention of switching, I just want this sorted.",
    "I do not want to close my account, I just need help.",
    "I'm not going to cancel over this, but please sort it.",
    "I won't be switching to another provider, I like the service otherwise.",
    "I'd never leave you guys over something like this.",
)

_PII: Final[dict[str, tuple[str, ...]]] = {
    "email": (
        "You can reach me at {email}.",
        "My account email is {email}.",
        "Send the confirmation to {email} please.",
        "Reply to {email}, not the old one.",
    ),
    "phone": (
        "Call me on {phone}.",
        "My number is {phone} if you need it.",
        "The account is under {phone}.",
        "Text me at {phone} when it's done.",
    ),
    "card": (
        "My card {card} was used.",
        "I paid with my card {card}.",
        "The card number is {card}, exp {exp}.",
        "It was on my card, number {card}.",
        "My card {card} was charged twice.",
    ),
    "ssn": (
        "My SSN is {ssn} if you need to verify me.",
        "Social security number {ssn}.",
        "For ID my social is {ssn}.",
    ),
    "iban": (
        "Please send it to my IBAN {iban}.",
        "My IBAN is {iban}.",
        "Bank account (IBAN): {iban}.",
    ),
}
_PII_KINDS: Final = tuple(_PII)

_MOOD: Final[dict[str, tuple[str, ...]]] = {
    "angry": (
        "This is ridiculous.",
        "I'm extremely frustrated.",
        "Absolutely unacceptable!!",
        "I am SO angry right now.",
        "Worst service I've ever had.",
        "Honestly pathetic.",
        "Sort it out!!!",
        "I'm fed up with this.",
        "This is a joke.",
        "Really disappointed in you.",
    ),
    "neutral": (
        "",
        "",
        "Please advise.",
        "Let me know what I need to do.",
        "Can you look into it?",
    ),
    "polite": (
        "Thanks in advance for your help.",
        "I appreciate your help with this.",
        "Hope you can help, thank you!",
        "Your team has always been great, so I'm sure it's a simple mix-up.",
        "Thank you, have a nice day.",
    ),
}
_MOODS: Final = tuple(_MOOD)

_CONTEXT: Final = (
    "I've been with you for {years} years.",
    "I'm writing about my account ending {last4}.",
    "This is my {nth} time contacting you about this.",
    "My name is {first} {last}.",
    "Account number {acct}.",
    "I run a small business and rely on this.",
    "I'm contacting you on behalf of my mother.",
    "Quick one.",
)

_SUBJECT: Final[dict[str, tuple[str, ...]]] = {
    "billing_error": (
        "Wrong bill",
        "Charged twice",
        "Billing query",
        "Question about my statement",
    ),
    "unexpected_fee": ("Unexpected fee", "What is this charge?", "Extra charges", "Bill query"),
    "network_outage": ("Internet down", "No signal", "Connection problems", "Service issue"),
    "slow_refund": ("Refund status", "Where is my refund?", "Money owed", "Return {order}"),
    "late_delivery": ("Order {order}", "Delivery delay", "Where is my order?", "Not received"),
    "app_login": ("Can't log in", "Account access", "App problem", "Password reset"),
    "product_defect": ("Faulty {product}", "Broken item", "Problem with my {product}", "Warranty"),
    "long_wait": ("No reply", "Still waiting", "Response times", "Nobody answers"),
    "address_update": ("Change of address", "Moving", "Update details", "New address"),
    "plan_question": ("Plan question", "Upgrade", "Question", "Pricing"),
    "payment_method_update": ("Update payment method", "New card", "Direct debit", "Payment"),
    OTHER: ("Question", "Hello", "Feedback", "General enquiry"),
}
_GENERIC_SUBJECT: Final = (
    "Complaint",
    "Urgent",
    "Account {acct}",
    "Re: case {case}",
    "Help needed",
    "(no subject)",
)

_CHAT_OPEN: Final = ("", "", "hi", "hello", "hey", "Hi there,", "Hello?", "hi,", "Good morning.")
_CHAT_CLOSE: Final = ("", "", "", "thx", "thanks", "pls help", "?", "asap please")
_EMAIL_OPEN: Final = (
    "Hello,",
    "Dear Customer Service,",
    "Hi team,",
    "To whom it may concern,",
    "Hi,",
    "Good afternoon,",
)
_EMAIL_CLOSE: Final = ("Regards,", "Thanks,", "Best,", "Sincerely,", "Kind regards,", "Cheers,")
_TICKET_OPEN: Final = ("", "", "", "Order {order}: ", "Re: account {acct} - ", "Case {case}: ")
_CALL_AGENT_OPEN: Final = (
    "Thank you for calling, my name is {agent}, how can I help you today?",
    "Hi, you're through to customer care, this is {agent}. What can I do for you?",
    "Good morning, {agent} speaking, how can I help?",
)
_CALL_AGENT_MID: Final = (
    "I'm sorry to hear that. Let me look into it for you.",
    "Okay, I understand. Can you confirm your full name for me?",
    "Thanks for explaining. One moment while I check your account.",
    "Right, I can see your account here.",
)
_CALL_FILLER: Final = ("", "", "yeah hi, ", "um, ", "uh hi, so ", "yeah so ", "hi, um, ")
_CALL_CLOSE: Final = ("okay thanks.", "alright, bye.", "yeah please do that.", "okay.", "fine.")

_PRODUCTS: Final = (
    "router",
    "phone",
    "wireless earbuds",
    "smart watch",
    "laptop",
    "blender",
    "vacuum",
    "tablet",
    "headphones",
    "TV",
    "coffee maker",
    "speaker",
    "air fryer",
    "printer",
)
_CITIES: Final = (
    "Denver",
    "Austin",
    "Columbus",
    "Phoenix",
    "Seattle",
    "Tampa",
    "Raleigh",
    "Boise",
    "Omaha",
    "Pittsburgh",
)
_STREETS: Final = ("Oak Street", "Pine Ave", "Maple Drive", "Elm Court", "Cedar Lane", "Main St")
_PLANS: Final = (
    "Unlimited Plus",
    "Unlimited Starter",
    "Essentials 10GB",
    "Family Share",
    "Premium 1 Gig",
    "Basic Talk and Text",
    "Fiber 500",
)
_FEE_NAMES: Final = (
    "activation fee",
    "late payment fee",
    "service fee",
    "admin fee",
    "processing fee",
    "convenience fee",
    "paper bill fee",
    "equipment fee",
)
_FEE_LABELS: Final = (
    "Network Access",
    "Regulatory Recovery",
    "Account Maintenance",
    "Admin Cost Recovery",
    "Service Adjustment",
    "Equipment Upkeep",
)
_FIRST: Final = (
    "James",
    "Maria",
    "Priya",
    "Kevin",
    "Aisha",
    "Tom",
    "Linda",
    "Carlos",
    "Mei",
    "Sam",
)
_LAST: Final = ("Smith", "Garcia", "Patel", "Nguyen", "Johnson", "Brown", "Lee", "Okafor", "Kim")
_AGENTS: Final = ("Kevin", "Maria", "Dan", "Priya", "Alex", "Jordan", "Chris")
_MONTHS: Final = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
_WEEKDAYS: Final = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday")
_NTH: Final = ("second", "third", "fourth", "fifth")
_EMAIL_DOMAINS: Final = ("gmail.com", "yahoo.com", "outlook.com", "hotmail.com", "icloud.com")
_AREA_CODES: Final = ("212", "312", "415", "503", "617", "702", "813", "919", "404", "720")
_IBAN_BANKS: Final = ("NWBK", "BARC", "HBUK", "LOYD", "MIDL")

StrArray = npt.NDArray[np.str_]
ObjArray = npt.NDArray[np.object_]
BoolArray = npt.NDArray[np.bool_]


# --------------------------------------------------------------------------------------------
# Small vectorised helpers
# --------------------------------------------------------------------------------------------


def _codes(u: npt.NDArray[np.float64], size: int) -> npt.NDArray[np.int64]:
    """Uniform integer codes in ``[0, size)`` from uniform draws ``u``."""
    return np.minimum((u * size).astype(np.int64), size - 1)


def _choose(options: Sequence[str], u: npt.NDArray[np.float64]) -> ObjArray:
    """Pick ``options[floor(u * len(options))]`` for each uniform draw ``u``."""
    values = np.asarray(options, dtype=object)
    return values[np.minimum((u * len(values)).astype(np.int64), len(values) - 1)]


def _choose_per_group(
    banks: Sequence[Sequence[str]], codes: npt.NDArray[np.int64], u: npt.NDArray[np.float64]
) -> ObjArray:
    """Pick from ``banks[code]`` for each row, all banks flattened into one array."""
    flat = np.asarray([item for bank in banks for item in bank], dtype=object)
    sizes = np.asarray([len(bank) for bank in banks], dtype=np.int64)
    offsets = np.concatenate([np.zeros(1, dtype=np.int64), np.cumsum(sizes)[:-1]])
    pick = np.minimum((u * sizes[codes]).astype(np.int64), sizes[codes] - 1)
    chosen: ObjArray = flat[offsets[codes] + pick]
    return chosen


def _where(flag: BoolArray, values: ObjArray) -> ObjArray:
    """``values`` where ``flag``, else ""."""
    return np.where(flag, values, "").astype(object)


def _digits(rng: np.random.Generator, n: int, width: int) -> list[str]:
    """``n`` random zero-padded numbers of ``width`` digits."""
    return [f"{v:0{width}d}" for v in rng.integers(0, 10**width, size=n).tolist()]


# --------------------------------------------------------------------------------------------
# Slot values
# --------------------------------------------------------------------------------------------


def _amounts(rng: np.random.Generator, n: int) -> list[str]:
    """Money amounts in the ways customers write them: $42.17, $42, 42 dollars."""
    values = (rng.gamma(2.0, 35.0, size=n) + 5.0).tolist()
    styles = rng.integers(0, 10, size=n).tolist()
    return [
        f"${v:.2f}" if s < 7 else (f"${v:.0f}" if s < 9 else f"{v:.0f} dollars")
        for v, s in zip(values, styles, strict=True)
    ]


def _dates(rng: np.random.Generator, n: int) -> list[str]:
    """Dates as customers write them: March 3, 3/14, the 14th, last Tuesday."""
    months = rng.integers(1, 13, size=n).tolist()
    days = rng.integers(1, 29, size=n).tolist()
    styles = rng.integers(0, 4, size=n).tolist()
    weekdays = _choose(_WEEKDAYS, rng.random(n)).tolist()
    out = []
    for month, day, style, weekday in zip(months, days, styles, weekdays, strict=True):
        if style == 0:
            out.append(f"{_MONTHS[month - 1]} {day}")
        elif style == 1:
            out.append(f"{month}/{day}")
        elif style == 2:
            suffix = "th" if 10 < day < 14 else {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")
            out.append(f"the {day}{suffix}")
        else:
            out.append(f"last {weekday}")
    return out


def _durations(rng: np.random.Generator, n: int) -> list[str]:
    """Waiting times: 45 minutes, 2 hours, over an hour."""
    minutes = rng.integers(20, 100, size=n).tolist()
    hours = rng.integers(2, 6, size=n).tolist()
    styles = rng.integers(0, 4, size=n).tolist()
    fixed = ("over an hour", "an hour and a half")
    return [
        f"{m} minutes" if s < 2 else (f"{h} hours" if s == 2 else fixed[m % 2])
        for m, h, s in zip(minutes, hours, styles, strict=True)
    ]


def _order_ids(rng: np.random.Generator, n: int) -> list[str]:
    """Order ids: ORD-123456 mostly, sometimes #1234567."""
    numbers = rng.integers(100000, 1000000, size=n).tolist()
    hashed = (rng.random(n) < 0.2).tolist()
    return [f"#{v}{v % 7}" if h else f"ORD-{v}" for v, h in zip(numbers, hashed, strict=True)]


def _streets(rng: np.random.Generator, n: int) -> list[str]:
    """Street addresses: 42 Oak Street."""
    numbers = rng.integers(1, 2000, size=n).tolist()
    names = _choose(_STREETS, rng.random(n)).tolist()
    return [f"{v} {s}" for v, s in zip(numbers, names, strict=True)]


def _slot_values(rng: np.random.Generator, n: int) -> dict[str, list[str]]:
    """Every non-PII slot, one value per row."""
    first = _choose(_FIRST, rng.random(n)).tolist()
    plan_idx = rng.integers(0, len(_PLANS), size=n)
    plan_shift = rng.integers(1, len(_PLANS), size=n)
    return {
        "amount": _amounts(rng, n),
        "amount2": _amounts(rng, n),
        "date": _dates(rng, n),
        "month": _choose(_MONTHS, rng.random(n)).tolist(),
        "order": _order_ids(rng, n),
        "product": _choose(_PRODUCTS, rng.random(n)).tolist(),
        "duration": _durations(rng, n),
        "n_days": [str(v) for v in rng.integers(3, 22, size=n).tolist()],
        "weeks": [str(v) for v in rng.integers(2, 7, size=n).tolist()],
        "n_msgs": [str(v) for v in rng.integers(3, 8, size=n).tolist()],
        "years": [str(v) for v in rng.integers(2, 16, size=n).tolist()],
        "nth": _choose(_NTH, rng.random(n)).tolist(),
        "plan": np.asarray(_PLANS, dtype=object)[plan_idx].tolist(),
        "plan2": np.asarray(_PLANS, dtype=object)[(plan_idx + plan_shift) % len(_PLANS)].tolist(),
        "city": _choose(_CITIES, rng.random(n)).tolist(),
        "street": _streets(rng, n),
        "zip": _digits(rng, n, 5),
        "house_no": [str(v) for v in rng.integers(1, 500, size=n).tolist()],
        "house_no2": [str(v) for v in rng.integers(500, 999, size=n).tolist()],
        "fee_name": _choose(_FEE_NAMES, rng.random(n)).tolist(),
        "fee_label": _choose(_FEE_LABELS, rng.random(n)).tolist(),
        "last4": _digits(rng, n, 4),
        "acct": _digits(rng, n, 9),
        "case": ["#" + d for d in _digits(rng, n, 7)],
        "agent": _choose(_AGENTS, rng.random(n)).tolist(),
        "first": first,
        "last": _choose(_LAST, rng.random(n)).tolist(),
    }


# --------------------------------------------------------------------------------------------
# PII values (generated only for the rows that carry PII)
# --------------------------------------------------------------------------------------------


def _luhn_cards(rng: np.random.Generator, n: int) -> list[str]:
    """Luhn-valid 16-digit Visa / Mastercard numbers, grouped by spaces, dashes or not at all."""
    body = rng.integers(0, 10, size=(n, 15))
    visa = rng.random(n) < 0.6
    body[:, 0] = np.where(visa, 4, 5)
    body[:, 1] = np.where(visa, body[:, 1], rng.integers(1, 6, size=n))
    # Luhn: from the right of the full 16 digits, double every second digit (the check digit
    # is the rightmost, so the body's rightmost digit is doubled).
    doubled = body[:, ::-1].copy()
    doubled[:, 0::2] *= 2
    doubled[doubled > 9] -= 9
    check = (10 - doubled.sum(axis=1) % 10) % 10
    digits = np.column_stack([body, check])
    numbers = ["".join(map(str, row)) for row in digits.tolist()]
    styles = rng.integers(0, 3, size=n).tolist()
    sep = (" ", "-", "")
    return [
        sep[s].join((d[0:4], d[4:8], d[8:12], d[12:16]))
        for d, s in zip(numbers, styles, strict=True)
    ]


def _phones(rng: np.random.Generator, n: int) -> list[str]:
    """US phone numbers in common formats."""
    area = _choose(_AREA_CODES, rng.random(n)).tolist()
    exchange = rng.integers(200, 1000, size=n).tolist()
    line = _digits(rng, n, 4)
    styles = rng.integers(0, 4, size=n).tolist()
    formats = ("({a}) {e}-{l}", "{a}-{e}-{l}", "+1 {a} {e} {l}", "{a}.{e}.{l}")
    return [
        formats[s].format(a=a, e=e, l=ln)
        for a, e, ln, s in zip(area, exchange, line, styles, strict=True)
    ]


def _ssns(rng: np.random.Generator, n: int) -> list[str]:
    """Well-formed SSNs (area 001-899 except 666, group 01-99, serial 0001-9999)."""
    area = rng.integers(1, 899, size=n)
    area = np.where(area == 666, 667, area).tolist()
    group = rng.integers(1, 100, size=n).tolist()
    serial = rng.integers(1, 10000, size=n).tolist()
    return [f"{a:03d}-{g:02d}-{s:04d}" for a, g, s in zip(area, group, serial, strict=True)]


def _iban_check(country: str, bban: str) -> str:
    """ISO 13616 check digits for a BBAN (mod 97 of BBAN + country + 00, letters as 10..35)."""
    rearranged = bban + country + "00"
    numeric = "".join(str(int(ch, 36)) for ch in rearranged)
    return f"{98 - int(numeric) % 97:02d}"


def _ibans(rng: np.random.Generator, n: int) -> list[str]:
    """Valid GB and DE IBANs, printed in groups of four or as one block."""
    banks = _choose(_IBAN_BANKS, rng.random(n)).tolist()
    german = (rng.random(n) < 0.5).tolist()
    sort_codes = _digits(rng, n, 6)
    accounts = _digits(rng, n, 8)
    blz = _digits(rng, n, 8)
    konto = _digits(rng, n, 10)
    grouped = (rng.random(n) < 0.6).tolist()
    out = []
    for i in range(n):
        country, bban = (
            ("DE", blz[i] + konto[i])
            if german[i]
            else ("GB", banks[i] + sort_codes[i] + accounts[i])
        )
        iban = country + _iban_check(country, bban) + bban
        out.append(
            " ".join(iban[j : j + 4] for j in range(0, len(iban), 4)) if grouped[i] else iban
        )
    return out


def _emails(first: list[str], last: list[str], rng: np.random.Generator) -> list[str]:
    """Personal e-mail addresses built from the row's name."""
    n = len(first)
    domains = _choose(_EMAIL_DOMAINS, rng.random(n)).tolist()
    numbers = rng.integers(1, 99, size=n).tolist()
    return [
        f"{f.lower()}.{la.lower()}{k}@{d}"
        for f, la, k, d in zip(first, last, numbers, domains, strict=True)
    ]


def _pii_slots(
    pii: BoolArray, slots: dict[str, list[str]], rng: np.random.Generator
) -> tuple[ObjArray, dict[str, list[str]]]:
    """PII sentence templates (\"\" where no PII) and the PII slot values for every row."""
    n = len(pii)
    rows = np.flatnonzero(pii)
    kinds = _codes(rng.random(n), len(_PII_KINDS))
    sentences = _choose_per_group([_PII[k] for k in _PII_KINDS], kinds, rng.random(n))
    m = len(rows)
    first = [slots["first"][i] for i in rows.tolist()]
    last = [slots["last"][i] for i in rows.tolist()]
    generated = {
        "email": _emails(first, last, rng),
        "phone": _phones(rng, m),
        "card": _luhn_cards(rng, m),
        "exp": [f"{mm:02d}/{yy}" for mm, yy in zip(*_exp_parts(rng, m), strict=True)],
        "ssn": _ssns(rng, m),
        "iban": _ibans(rng, m),
    }
    values: dict[str, list[str]] = {}
    for key, column in generated.items():
        full = np.full(n, "", dtype=object)
        full[rows] = np.asarray(column, dtype=object)
        values[key] = full.tolist()
    return _where(pii, sentences), values


def _exp_parts(rng: np.random.Generator, n: int) -> tuple[list[int], list[int]]:
    """Card expiry months and two-digit years."""
    return rng.integers(1, 13, size=n).tolist(), rng.integers(26, 32, size=n).tolist()


# --------------------------------------------------------------------------------------------
# Message parts
# --------------------------------------------------------------------------------------------


def _topic_codes(
    values: npt.NDArray[np.str_], allowed: tuple[str, ...], what: str
) -> npt.NDArray[np.int64]:
    """Integer code of each value in ``allowed``; ContractError naming unknown values."""
    lookup = np.asarray(allowed)
    order = np.argsort(lookup)
    position = np.searchsorted(lookup[order], values)
    position = np.minimum(position, len(lookup) - 1)
    codes = order[position]
    unknown = lookup[codes] != values
    if unknown.any():
        bad = sorted(set(values[unknown].tolist()))[:5]
        raise ContractError(f"{what} has unknown topic ids {bad}; expected one of {list(allowed)}")
    return codes.astype(np.int64)


def _secondary(
    second: npt.NDArray[np.str_], topic: npt.NDArray[np.str_], rng: np.random.Generator
) -> ObjArray:
    """ "Also, <mention of the second topic>." where a different second topic is given."""
    n = len(second)
    allowed = (*ROOT_CAUSES, OTHER, "")
    codes = _topic_codes(second, allowed, "second_topic")
    banks = [*(_SECOND[t] for t in (*ROOT_CAUSES, OTHER)), ("",)]
    mention = _choose_per_group(banks, codes, rng.random(n))
    prefix = _choose(_SECOND_PREFIX, rng.random(n))
    present = (second != "") & (second != topic)
    return _where(present, prefix + mention + ".")


def _flag_sentences(
    flag: BoolArray,
    bank: Sequence[str],
    decoys: Sequence[str],
    decoy_rate: float,
    rng: np.random.Generator,
) -> ObjArray:
    """A sentence from ``bank`` where flagged; a look-alike decoy on some unflagged rows."""
    n = len(flag)
    said = _choose(bank, rng.random(n))
    decoy = _choose(decoys, rng.random(n))
    use_decoy = ~flag & (rng.random(n) < decoy_rate)
    return np.where(flag, said, np.where(use_decoy, decoy, "")).astype(object)


def _competitor_parts(
    competitor: BoolArray, churn: BoolArray, rng: np.random.Generator
) -> tuple[ObjArray, ObjArray, list[str]]:
    """Competitor sentence, churn-with-competitor sentence, and the competitor form per row.

    A row flagged for both competitor and churn says both in one sentence half of the time
    ("I'm switching to Verizon"); otherwise the competitor gets its own neutral sentence.
    """
    n = len(competitor)
    codes = _codes(rng.random(n), len(COMPETITORS))
    forms = _choose_per_group([_COMPETITOR_FORMS[c] for c in COMPETITORS], codes, rng.random(n))
    combined = competitor & churn & (rng.random(n) < 0.5)
    mention = _where(competitor & ~combined, _choose(_COMPETITOR, rng.random(n)))
    churn_mention = _where(combined, _choose(_CHURN_WITH_COMPETITOR, rng.random(n)))
    return mention, churn_mention, forms.tolist()


def _mood_sentences(
    topic: npt.NDArray[np.str_], upset: BoolArray, rng: np.random.Generator
) -> ObjArray:
    """Angry, neutral or polite closing remark; angrier when escalating or churning."""
    n = len(topic)
    harmless = np.isin(topic, (*HARMLESS_CANDIDATES, OTHER))
    p_angry = np.where(upset, 0.8, np.where(harmless, 0.05, 0.4))
    p_polite = np.where(harmless, 0.45, 0.2)
    u = rng.random(n)
    mood = np.where(u < p_angry, 0, np.where(u < p_angry + p_polite, 2, 1)).astype(np.int64)
    return _choose_per_group([_MOOD[m] for m in _MOODS], mood, rng.random(n))


# --------------------------------------------------------------------------------------------
# Assembly by channel
# --------------------------------------------------------------------------------------------


def _channel_codes(channel: npt.NDArray[np.str_]) -> npt.NDArray[np.int64]:
    """0 chat, 1 email, 2 call, 3 ticket (unknown channels write like tickets)."""
    lowered = np.char.lower(channel.astype(str))
    codes = np.full(len(channel), CHANNELS.index("ticket"), dtype=np.int64)
    for alias, style in _CHANNEL_ALIASES.items():
        codes[lowered == alias] = CHANNELS.index(style)
    return codes


def _body(parts: Sequence[ObjArray]) -> list[str]:
    """Join the non-empty sentence templates of each row with single spaces."""
    return [" ".join(p for p in row if p) for row in zip(*(p.tolist() for p in parts), strict=True)]


def _wrap(
    body: list[str],
    codes: npt.NDArray[np.int64],
    topic_codes: npt.NDArray[np.int64],
    rng: np.random.Generator,
) -> list[str]:
    """Wrap each body in its channel's frame: greeting, subject line, agent turns, sign-off."""
    n = len(body)
    subjects = np.where(
        rng.random(n) < TOPIC_SUBJECT_RATE,
        _choose_per_group([_SUBJECT[t] for t in (*ROOT_CAUSES, OTHER)], topic_codes, rng.random(n)),
        _choose(_GENERIC_SUBJECT, rng.random(n)),
    ).tolist()
    pick = {
        name: _choose(bank, rng.random(n)).tolist()
        for name, bank in (
            ("chat_open", _CHAT_OPEN),
            ("chat_close", _CHAT_CLOSE),
            ("email_open", _EMAIL_OPEN),
            ("email_close", _EMAIL_CLOSE),
            ("ticket_open", _TICKET_OPEN),
            ("agent_open", _CALL_AGENT_OPEN),
            ("agent_mid", _CALL_AGENT_MID),
            ("filler", _CALL_FILLER),
            ("call_close", _CALL_CLOSE),
        )
    }
    out = []
    for i, (text, code) in enumerate(zip(body, codes.tolist(), strict=True)):
        if code == 0:
            out.append(
                " ".join(p for p in (pick["chat_open"][i], text, pick["chat_close"][i]) if p)
            )
        elif code == 1:
            out.append(
                f"Subject: {subjects[i]}\n\n{pick['email_open'][i]}\n\n{text}\n\n"
                f"{pick['email_close'][i]}\n{{first}}"
            )
        elif code == 2:
            out.append(
                f"Agent: {pick['agent_open'][i]}\nCustomer: {pick['filler'][i]}{text}\n"
                f"Agent: {pick['agent_mid'][i]}\nCustomer: {pick['call_close'][i]}"
            )
        else:
            out.append(f"{pick['ticket_open'][i]}{text}")
    return out


def _speech_to_text(text: str) -> str:
    """Raw transcript look: lower case, sentence punctuation dropped (not inside numbers)."""
    lowered = text.lower().replace("!", "").replace("?", "").replace(";", "")
    for mark in (". ", ".\n", ", "):
        lowered = lowered.replace(mark, mark[1:])
    return lowered.rstrip(".")


def _restyle(texts: list[str], codes: npt.NDArray[np.int64], rng: np.random.Generator) -> list[str]:
    """Lower-case some chats; make some calls look like raw speech-to-text (no punctuation)."""
    n = len(texts)
    lower_chat = ((codes == 0) & (rng.random(n) < LOWERCASE_CHAT_RATE)).tolist()
    asr = ((codes == 2) & (rng.random(n) < ASR_CALL_RATE)).tolist()
    return [
        _speech_to_text(t) if a else (t.lower() if lc else t)
        for t, lc, a in zip(texts, lower_chat, asr, strict=True)
    ]


def _typo(word: str, op: float, where: float) -> str:
    """Swap two neighbouring letters or drop one letter of ``word``."""
    k = 1 + int(where * (len(word) - 2))
    if op < 0.5:
        return word[: k - 1] + word[k] + word[k - 1] + word[k + 1 :]
    return word[:k] + word[k + 1 :]


def _inject_typos(texts: list[str], rng: np.random.Generator, rate: float) -> list[str]:
    """Put one typo into an alphabetic word (5+ letters) of a ``rate`` share of texts."""
    n = len(texts)
    chosen = np.flatnonzero(rng.random(n) < rate).tolist()
    draws = rng.random((len(chosen), 3)).tolist()
    out = list(texts)
    for i, (pick, op, where) in zip(chosen, draws, strict=True):
        words = out[i].split(" ")
        candidates = [j for j, w in enumerate(words) if len(w) >= 5 and w.isalpha()]
        if candidates:
            j = candidates[int(pick * len(candidates))]
            words[j] = _typo(words[j], op, where)
            out[i] = " ".join(words)
    return out


# --------------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------------


def _as_str(values: npt.ArrayLike, n: int, what: str) -> npt.NDArray[np.str_]:
    """A length-checked string array; None / NaN become ""."""
    array = np.asarray(values, dtype=object)
    if array.shape != (n,):
        raise ContractError(f"{what} must be a 1-D array of length {n}, got shape {array.shape}")
    missing = np.asarray([v is None or v != v for v in array.tolist()], dtype=bool)
    array[missing] = ""
    return array.astype(str)


def _as_bool(values: npt.ArrayLike, n: int, what: str) -> BoolArray:
    """A length-checked boolean array."""
    array = np.asarray(values, dtype=bool)
    if array.shape != (n,):
        raise ContractError(f"{what} must be a 1-D array of length {n}, got shape {array.shape}")
    return array


@dataclass(frozen=True)
class _Rows:
    """Validated inputs of :func:`render_texts`."""

    topic: npt.NDArray[np.str_]
    second_topic: npt.NDArray[np.str_]
    competitor: BoolArray
    escalation: BoolArray
    churn_language: BoolArray
    pii: BoolArray
    channel_codes: npt.NDArray[np.int64]
    topic_codes: npt.NDArray[np.int64]


def _validate(
    topic: npt.ArrayLike,
    second_topic: npt.ArrayLike,
    competitor: npt.ArrayLike,
    escalation: npt.ArrayLike,
    churn_language: npt.ArrayLike,
    pii: npt.ArrayLike,
    channel: npt.ArrayLike,
) -> _Rows:
    """Check lengths and topic ids; normalise types."""
    n = len(np.asarray(topic, dtype=object))
    topic_arr = _as_str(topic, n, "topic")
    return _Rows(
        topic=topic_arr,
        second_topic=_as_str(second_topic, n, "second_topic"),
        competitor=_as_bool(competitor, n, "competitor"),
        escalation=_as_bool(escalation, n, "escalation"),
        churn_language=_as_bool(churn_language, n, "churn_language"),
        pii=_as_bool(pii, n, "pii"),
        channel_codes=_channel_codes(_as_str(channel, n, "channel")),
        topic_codes=_topic_codes(topic_arr, (*ROOT_CAUSES, OTHER), "topic"),
    )


def _message_parts(
    rows: _Rows, slots: dict[str, list[str]], rng: np.random.Generator
) -> list[ObjArray]:
    """Sentence templates of every row, in message order ("" where absent).

    Adds the competitor form and the PII values to ``slots``.
    """
    n = len(rows.topic)
    core = _choose_per_group(
        [_CORE[t] for t in (*ROOT_CAUSES, OTHER)], rows.topic_codes, rng.random(n)
    )
    context = _where(rng.random(n) < CONTEXT_RATE, _choose(_CONTEXT, rng.random(n)))
    second = _secondary(rows.second_topic, rows.topic, rng)
    mood = _mood_sentences(rows.topic, rows.escalation | rows.churn_language, rng)
    comp_sentence, churn_comp, slots["comp"] = _competitor_parts(
        rows.competitor, rows.churn_language, rng
    )
    escalate = _flag_sentences(
        rows.escalation, _ESCALATION, _ESCALATION_DECOY, ESCALATION_DECOY_RATE, rng
    )
    churn = _flag_sentences(
        rows.churn_language & (churn_comp == ""), _CHURN, _CHURN_DECOY, CHURN_DECOY_RATE, rng
    )
    churn = np.where(churn_comp != "", churn_comp, churn).astype(object)
    pii_sentence, pii_values = _pii_slots(rows.pii, slots, rng)
    slots.update(pii_values)
    pii_first = rng.random(n) < 0.3
    return [
        context,
        _where(pii_first, pii_sentence),
        core,
        second,
        comp_sentence,
        mood,
        escalate,
        churn,
        _where(~pii_first, pii_sentence),
    ]


def _fill(skeletons: list[str], slots: dict[str, list[str]]) -> list[str]:
    """Fill each row's message skeleton with that row's slot values."""
    keys = tuple(slots)
    columns = [slots[k] for k in keys]
    return [
        skeleton.format_map(dict(zip(keys, row, strict=True)))
        for skeleton, *row in zip(skeletons, *columns, strict=True)
    ]


def render_texts(
    topic: npt.ArrayLike,
    second_topic: npt.ArrayLike,
    competitor: npt.ArrayLike,
    escalation: npt.ArrayLike,
    churn_language: npt.ArrayLike,
    pii: npt.ArrayLike,
    channel: npt.ArrayLike,
    rng: np.random.Generator,
) -> list[str]:
    """Write one realistic customer message per row.

    Parameters
    ----------
    topic : array of str
        Planted root cause per row: one of :data:`ROOT_CAUSES`, or :data:`OTHER` for an
        out-of-scope message.
    second_topic : array of str
        A second root cause mentioned in passing ("Also, ..."), or "" (None / NaN) for none.
    competitor : array of bool
        Mention a competitor from :data:`COMPETITORS` (in a varied written form).
    escalation : array of bool
        Ask for a manager, threaten a regulator or lawyer, etc.
    churn_language : array of bool
        Pre-churn language ("I'm done, cancel everything"). About 10% of the other rows get a
        negated decoy ("I don't want to cancel, just fix it") instead.
    pii : array of bool
        Include one piece of PII: an e-mail address, a US phone number, a Luhn-valid card
        number, an SSN or a valid IBAN.
    channel : array of str
        ``chat``, ``email``, ``call`` or ``ticket`` (aliases such as ``phone`` and ``sms`` are
        understood; anything else is written like a ticket). Sets the writing style.
    rng : numpy.random.Generator
        Source of randomness: exactly one draw is taken from it (the seed of a private child
        generator), so the same state gives the same texts and the caller's later draws do
        not depend on how many choices rendering makes.

    Returns
    -------
    list of str
        One message per row, in row order.

    Raises
    ------
    ContractError
        The arrays differ in length or a topic id is unknown.

    Notes
    -----
    Texts are built from at least 15 templates per topic, filled with amounts, dates, order
    ids (``ORD-123456``), products and durations. About a quarter of the templates avoid the
    topic's obvious keywords, escalation and churn phrases include paraphrases, and 4% of
    texts get a typo, so a keyword classifier should be right most of the time, not always.

    Examples
    --------
    >>> import numpy as np
    >>> texts = render_texts(
    ...     np.array(["slow_refund"]), np.array([""]), np.array([False]), np.array([False]),
    ...     np.array([True]), np.array([False]), np.array(["chat"]), np.random.default_rng(0),
    ... )
    >>> len(texts)
    1
    """
    rows = _validate(topic, second_topic, competitor, escalation, churn_language, pii, channel)
    rng = np.random.default_rng(int(rng.integers(0, 2**63 - 1)))
    slots = _slot_values(rng, len(rows.topic))
    parts = _message_parts(rows, slots, rng)
    skeletons = _wrap(_body(parts), rows.channel_codes, rows.topic_codes, rng)
    texts = _fill(skeletons, slots)
    return _inject_typos(_restyle(texts, rows.channel_codes, rng), rng, TYPO_RATE)
