"""A hand-labelled corpus for the escalation, churn and competitor detectors.

Hand-written customer messages (chat, e-mail and call-note styles), each labelled for all
three detectors. About half are hard negatives: look-alike phrases ("cancel my order",
"account manager", "leaving a review"), negated requests ("I do not want to cancel"), and
names or words that contain a competitor's name ("Atticus", "purchase", "spectrum of").

Labels are a compact string: ``E`` escalation request, ``C`` cancellation or pre-churn
language, then after ``|`` the canonical competitor names (comma-joined, taxonomy order).
An empty string means none of the three.

Used by ``tests/signals/test_detectors.py`` and ``benchmarks/bench_detectors.py``. Written
by the engineer who also tuned the built-in taxonomy, so it is an acceptance and regression
set, not an unbiased estimate of accuracy on real traffic.
"""

from __future__ import annotations

from typing import Final, NamedTuple

__all__ = ["CORPUS", "HOLDOUT", "Example", "examples"]


class Example(NamedTuple):
    """One labelled message."""

    text: str
    escalation: bool
    churn: bool
    competitors: str


CORPUS: Final[tuple[tuple[str, str], ...]] = (
    # -- escalation requests ------------------------------------------------------------------
    ("I want to speak to your manager right now.", "E"),
    ("Put me through to a supervisor please.", "E"),
    ("Can I talk to someone more senior? This is going nowhere.", "E"),
    ("Get me your supervisor.", "E"),
    ("I'd like this escalated to a team leader today.", "E"),
    ("Please escalate my case, it has been three weeks.", "E"),
    ("I am filing a formal complaint about the way I was treated.", "E"),
    ("I want to lodge a complaint about your engineer.", "E"),
    ("This is going to the ombudsman if it isn't fixed by Friday.", "E"),
    ("I will be reporting you to the FCC.", "E"),
    ("I've already contacted the Better Business Bureau.", "E"),
    ("My attorney will be in touch.", "E"),
    ("I'm speaking to a lawyer about this.", "E"),
    ("We are prepared to take legal action.", "E"),
    ("I'll see you in small claims court.", "E"),
    ("I'm going to sue you for the damage.", "E"),
    ("I'm submitting a complaint to the CFPB tonight.", "E"),
    ("If I don't hear back I'll go to the financial ombudsman.", "E"),
    ("I'd like to make an official complaint.", "E"),
    ("Transfer me to your manager, I'm not repeating myself again.", "E"),
    ("Is there anyone higher up I can speak with?", "E"),
    ("I need a supervisor to call me back today.", "E"),
    ("agent: how can I help\ncustomer: manager. now.", "E"),
    ("I want the name of your supervisor and I want to speak to them.", "E"),
    ("Please pass this to your complaints department.", "E"),
    ("I'm reporting this to trading standards.", "E"),
    ("I'll be writing to the state attorney general.", "E"),
    ("Consider this a formal complaint.", "E"),
    ("I demand to speak with a manager.", "E"),
    ("Can you escalate this to your billing team lead?", "E"),
    ("I've been told to ask for a supervisor, so here I am.", "E"),
    ("I'll be contacting consumer protection about these fees.", "E"),
    ("You leave me no choice but to involve my solicitor.", "E"),
    ("This is the third time, I want this escalated.", "E"),
    ("Let me speak to the person in charge.", "E"),
    ("I want to talk to someone with authority to fix this.", "E"),
    ("A class action is what this deserves.", "E"),
    ("I'm going to complain to the regulator.", "E"),
    ("I will take this to Ofcom.", "E"),
    ("Your supervisor needs to hear about this. Now.", "E"),
    ("Escalating this to your manager is the only option left.", "E"),
    ("I want a call back from a manager, not another agent.", "E"),
    ("Hi, could I speak with a supervisor about my refund?", "E"),
    ("SUPERVISOR PLEASE", "E"),
    ("i want 2 speak 2 ur manager", "E"),
    ("I'm raising a formal complaint and I want a reference number.", "E"),
    # escalation hard negatives
    ("My account manager said the discount would apply.", ""),
    ("I spoke to my relationship manager at the branch last week.", ""),
    ("I use a password manager, that's why the password is long.", ""),
    ("The store manager said I could return it within 30 days.", ""),
    ("I don't want to escalate this, I just want it fixed.", ""),
    ("No need to get a manager involved.", ""),
    ("I'm not going to file a complaint, just sort it out.", ""),
    ("I don't need to speak to a supervisor, just help me please.", ""),
    ("I don't want to make a formal complaint, it was a small mistake.", ""),
    ("I have no plans to escalate, I just want a refund.", ""),
    ("I'm a manager at a small firm and need an invoice with VAT.", ""),
    ("My manager at work needs a copy of the invoice.", ""),
    ("The property manager is handling the move for us.", ""),
    ("My legal name changed after I got married, please update it.", ""),
    ("I granted my daughter power of attorney, can she call for me?", ""),
    ("Can you send the letter to my lawyer's office address? He handles my mail.", ""),
    ("Is there a manager's special on phones this month?", ""),
    ("Please don't escalate, I'll wait until Monday.", ""),
    ("The line manager approved my expenses, I just need the receipt.", ""),
    ("I'm not looking to escalate anything.", ""),
    ("I saw your new plans on social media, how do I sign up?", ""),
    ("Sue from your billing team was brilliant, thank you Sue.", ""),
    ("I never asked for a supervisor, the agent transferred me.", ""),
    ("How do I add a second account holder?", ""),
    ("Your team lead Maria sorted it, thanks.", ""),
    ("Press the reset button for ten seconds, the leaflet says.", ""),
    ("Where can I find the complaints policy? Just curious, no complaint.", ""),
    ("The hiring manager at your company never got back to me about the job.", ""),
    ("My project manager uses your app and loves it.", ""),
    # -- churn / pre-churn ----------------------------------------------------------------------
    ("I want to cancel my subscription.", "C"),
    ("Please cancel my service effective today.", "C"),
    ("I'm done, cancel everything.", "C"),
    ("I want to close my account.", "C"),
    ("Close the account and send me the final bill.", "C"),
    ("I'm closing my account at the end of the month.", "C"),
    ("I'm switching providers.", "C"),
    ("I'm leaving as soon as my contract ends.", "C"),
    ("Consider this your last chance.", "C"),
    ("I'm porting my number out this week.", "C"),
    ("I'll be taking my business elsewhere.", "C"),
    ("You're about to lose a long-time customer.", "C"),
    ("I've had enough, I'm out.", "C"),
    ("Don't bother trying to keep me, I'm leaving.", "C"),
    ("Please send me whatever form I need to cancel.", "C"),
    ("I won't be renewing next year.", "C"),
    ("Terminate my contract please.", "C"),
    ("How do I cancel my membership?", "C"),
    ("I want to end my contract early.", "C"),
    ("I'm looking at other providers.", "C"),
    ("Start the disconnection process.", "C"),
    ("I will never use you again.", "C"),
    ("This is your final chance to fix it before I go.", "C"),
    ("I'm thinking about leaving you.", "C"),
    ("Stop my service from the 1st.", "C"),
    ("If this happens again I'm gone.", "C"),
    ("I'd like to discontinue the service.", "C"),
    ("Unsubscribe me from the premium plan and close the account.", "C"),
    ("I'm shopping around for a new bank.", "C"),
    ("I want out of this contract.", "C"),
    ("cancel my account pls", "C"),
    ("CANCEL MY SERVICE", "C"),
    ("I want to cancell my contract", "C"),
    ("i'm cancelling, this is ridiculous", "C"),
    ("Been a customer 10 years but I'm walking away.", "C"),
    ("I'm moving my accounts to another bank.", "C"),
    ("Time to find a different provider.", "C"),
    ("We're switching carriers next week.", "C"),
    ("Cancel the contract, I've had enough of this.", "C"),
    ("I'm going elsewhere.", "C"),
    ("Please close our joint account.", "C"),
    ("I'm not renewing.", "C"),
    ("I'd like a cancellation confirmation for my service.", "C"),
    ("Consider my account closed.", "C"),
    ("I'm about to quit your service.", "C"),
    # churn hard negatives
    ("I want to cancel my order, it was placed by mistake.", ""),
    ("Please cancel the delivery slot for Tuesday.", ""),
    ("Can you cancel the appointment with the technician?", ""),
    ("I don't want to cancel, just fix it.", ""),
    ("I'm not leaving yet but I'm getting close.", ""),
    ("I have no intention of switching, I just want this sorted.", ""),
    ("I do not want to close my account, I just need help.", ""),
    ("I'm not going to cancel over this, but please sort it.", ""),
    ("I'd never leave you guys over something like this.", ""),
    ("I'm leaving a review on your website later today.", ""),
    ("Sorry I keep leaving voicemails.", ""),
    ("I'm leaving for holiday tomorrow, can it be delivered before then?", ""),
    ("Please switch me to paperless billing.", ""),
    ("I'd like to switch to a cheaper plan.", ""),
    ("How do I switch to autopay?", ""),
    ("Can I switch to wifi calling on this phone?", ""),
    ("What is the cancellation fee if I change plans?", ""),
    ("Why was there an early termination charge on my bill?", ""),
    ("Please cancel the payment I scheduled twice by accident.", ""),
    ("Cancel the upgrade, I'll keep my current phone.", ""),
    ("I closed the app and opened it again but it still crashes.", ""),
    ("Can you close this ticket? It's resolved.", ""),
    ("I want to cancel the return, I'm keeping the item.", ""),
    ("The technician left the package with my neighbour.", ""),
    ("My last chance to catch the courier is before 5pm.", ""),
    ("I switched the router off and on again.", ""),
    ("The call was terminated before I could finish.", ""),
    ("I'm not cancelling, I just want to know the options.", ""),
    ("I'm definitely not switching, you've been great.", ""),
    ("I won't cancel, I just need this fee explained.", ""),
    ("Leaving the house now, call me on my mobile.", ""),
    ("I'm moving house, can I keep my service at the new address?", ""),
    ("Please cancel my request for a paper bill.", ""),
    ("Can you cancel the charge that was applied by mistake?", ""),
    ("No plans to leave, just want the discount applied.", ""),
    ("I'm happy to stay, I just need the bill corrected.", ""),
    ("Cancelled flights aside, the service has been fine.", ""),
    ("I'm not thinking about switching at all.", ""),
    ("We're not closing the account, we're adding a user.", ""),
    ("I paused my subscription last month, how do I resume it?", ""),
    # -- competitors ----------------------------------------------------------------------------
    ("Verizon offered me the same plan for $20 less.", "|Verizon"),
    ("My neighbour is on T-Mobile and never has outages.", "|T-Mobile"),
    ("tmobile gives new customers a free phone", "|T-Mobile"),
    ("AT&T has a better deal right now.", "|AT&T"),
    ("at and t quoted me half your price", "|AT&T"),
    ("Xfinity internet is faster in my building.", "|Comcast Xfinity"),
    ("Comcast never charged me this kind of fee.", "|Comcast Xfinity"),
    ("Spectrum is offering 500 Mbps for less.", "|Spectrum"),
    ("Mint Mobile is a fraction of the price.", "|Mint Mobile"),
    ("Cricket Wireless would never do this.", "|Cricket Wireless"),
    ("Vodaphone sorted this in a day when I was with them.", "|Vodafone"),
    ("Chase Bank refunds these fees without asking.", "|Chase"),
    ("Bank of America approved me in minutes.", "|Bank of America"),
    ("Wells Fargo doesn't charge for this.", "|Wells Fargo"),
    ("Capital One has no foreign transaction fees.", "|Capital One"),
    ("Amazon delivers the same thing next day.", "|Amazon"),
    ("Even Walmart has better customer service.", "|Walmart"),
    ("Brightwave called me with an offer yesterday.", "|Brightwave"),
    ("Verizion and AT&T both have better coverage here.", "|Verizon,AT&T"),
    ("my brother is with vzw and pays less", "|Verizon"),
    ("Why is Verizon's plan cheaper?", "|Verizon"),
    ("Nimbus Mobile gives unlimited data for that price.", "|Nimbus Mobile"),
    ("Northstar Bank offered me a better rate.", "|Northstar Bank"),
    ("I got a letter from BofA with a better card offer.", "|Bank of America"),
    ("T-Mo has a deal on the same phone.", "|T-Mobile"),
    ("xfinty is cheaper for the same speed", "|Comcast Xfinity"),
    # competitors with churn
    ("I'm switching to Verizon next week.", "C|Verizon"),
    ("Cancel my account, I'm going with T-Mobile.", "C|T-Mobile"),
    ("I'm moving everything over to Brightwave.", "C|Brightwave"),
    ("Xfinity is getting my business from now on, close my account.", "C|Comcast Xfinity"),
    ("I'm porting my number to Mint Mobile.", "C|Mint Mobile"),
    ("We're leaving for AT&T as soon as the contract ends.", "C|AT&T"),
    ("I signed up with Spectrum today, please cancel my service.", "C|Spectrum"),
    ("I'm switching to Chase Bank.", "C|Chase"),
    ("I'll be switching over to Wells Fargo.", "C|Wells Fargo"),
    # competitor with escalation
    ("Verizon would have escalated this to a manager by now. Get me your supervisor.", "E|Verizon"),
    # competitor hard negatives
    ("My son Atticus set up the account for me.", ""),
    ("The attachment shows the attendance record you asked for.", ""),
    ("I want to purchase a second line for my daughter.", ""),
    ("We had to chase the courier for three days.", ""),
    ("The problem covers the whole spectrum of your services.", ""),
    ("My daughter plays cricket on Saturdays so call before 9.", ""),
    ("I'd like a mint condition replacement, not a refurbished one.", ""),
    ("The Amazonian rainforest print on the case is scratched.", ""),
    ("My name is Wellsford, please update the spelling.", ""),
    ("I'm at the Walmartin street branch, is that the right one?", ""),
    ("The verification email went to spam.", ""),
    ("I'm attaching the photos of the damage.", ""),
    ("Capital letters only in the password field?", ""),
    ("Bright wavelengths from the screen hurt my eyes at night.", ""),
    ("Atlanta store staff were helpful.", ""),
    ("The attic has no signal at all.", ""),
    ("Can I pay with Apple Pay instead?", ""),
    ("It is the north star of my week, your newsletter.", ""),
    # -- plain service messages (no detector) --------------------------------------------------
    ("My internet has been down since Monday.", ""),
    ("I was charged twice for March.", ""),
    ("Where is my refund? It's been two weeks.", ""),
    ("The app keeps logging me out.", ""),
    ("Can you update my billing address?", ""),
    ("Thanks, the technician fixed it in ten minutes.", ""),
    ("What does the unlimited plan include?", ""),
    ("My package says delivered but it's not here.", ""),
    ("The new card arrived, how do I activate it?", ""),
    ("I've been on hold for an hour.", ""),
    ("This is the worst service I have ever had.", ""),
    ("Your agent was rude and hung up on me.", ""),
    ("Please reset my voicemail PIN.", ""),
    ("How do I add my partner to the account?", ""),
    ("I need a copy of my last three statements.", ""),
    ("The router lights are all orange.", ""),
)


HOLDOUT: Final[tuple[tuple[str, str], ...]] = (
    # Written after the taxonomy was tuned on CORPUS and never used to tune it: an honest
    # (if small) check of how the rules generalise.
    ("who is your boss? i want them on the phone", "E"),
    ("I expect a call from a senior manager by Friday.", "E"),
    ("Kindly forward my complaint to your head office.", "E"),
    ("I have contacted my local MP about this.", "E"),
    ("I'm taking this up with the Financial Conduct Authority.", "E"),
    ("Expect to hear from my legal representative.", "E"),
    ("I'd like to escalate a complaint about my last bill.", "E"),
    ("Please raise this with your supervisor before you reply.", "E"),
    ("I'll be suing for the cost of the ruined food.", "E"),
    ("I want a manager to review the charges.", "E"),
    ("Could a supervisor approve the refund? The agent said only they can.", "E"),
    ("I'd rather not bother a manager with this.", ""),
    ("My manager asked me to get a VAT invoice for the team phones.", ""),
    ("The branch manager was lovely when I visited.", ""),
    ("We don't need to escalate, the fix worked.", ""),
    ("I'm not filing a complaint, I just wanted you to know.", ""),
    ("I read your complaints procedure, but it's fine now, thanks.", ""),
    ("My lawyer told me to keep all my statements, can I download them?", ""),
    ("Please don't get a supervisor, I'm in a hurry.", ""),
    ("I plan to cancel my broadband when the contract ends.", "C"),
    ("Count this as my notice to end the service.", "C"),
    ("Please arrange for my line to be disconnected.", "C"),
    ("I've found a cheaper deal with another provider and I'm taking it.", "C"),
    ("I'll be moving my mortgage to another bank.", "C"),
    ("I'm closing all my accounts with you.", "C"),
    ("Cancel the direct debit and the account, I'm off.", "C"),
    ("We are terminating our agreement with you.", "C"),
    ("You've lost a customer.", "C"),
    ("I'm seriously considering leaving.", "C"),
    ("I'm ready to switch to Verizon.", "C|Verizon"),
    ("I've already signed up with Xfinity.", "C|Comcast Xfinity"),
    ("Is it possible to cancel my order from last night?", ""),
    ("I'm not planning to leave, don't worry.", ""),
    ("Cancel the callback, I found the answer online.", ""),
    ("I'd like to switch to e-billing please.", ""),
    ("We're leaving for the airport, please call after 6.", ""),
    ("I don't want to close the account, just freeze the card.", ""),
    ("The meeting was cancelled so I can take the technician visit.", ""),
    ("Please cancel the duplicate payment.", ""),
    ("Is there a fee to cancel the add-on?", ""),
    ("I never said I wanted to cancel.", ""),
    ("How do I switch to the annual plan?", ""),
    ("I'm leaving the keys with the concierge for the engineer.", ""),
    ("AT&T's coverage map shows 5G here, does yours?", "|AT&T"),
    ("Tmobile gave my wife a better trade-in value.", "|T-Mobile"),
    ("Wells Fargo waived the same fee last year.", "|Wells Fargo"),
    ("Verizone has better coverage in the mountains.", "|Verizon"),
    ("comcast's technician came the same day", "|Comcast Xfinity"),
    ("Amazon refunded me before the item even arrived.", "|Amazon"),
    ("I bought the charger at Walmart.", "|Walmart"),
    ("The chasers on the bill are confusing.", ""),
    ("We went to the spectrum exhibition last week.", ""),
    ("Attaching my ID as requested.", ""),
    ("My surname is Verizonas, it keeps getting misspelled.", ""),
    ("A cricket match kept me from calling earlier.", ""),
    ("The mint green case arrived scratched.", ""),
)


def _parse(label: str) -> tuple[bool, bool, str]:
    flags, _, names = label.partition("|")
    return "E" in flags, "C" in flags, names


def examples(part: str = "corpus") -> list[Example]:
    """The labelled messages as :class:`Example` rows, in order.

    Parameters
    ----------
    part : {"corpus", "holdout"}
        ``corpus``: the main set (the built-in taxonomy was tuned on it); ``holdout``: the
        smaller set written afterwards and never tuned on.

    Returns
    -------
    list of Example
        One row per message.
    """
    rows = CORPUS if part == "corpus" else HOLDOUT
    return [Example(text, *_parse(label)) for text, label in rows]
