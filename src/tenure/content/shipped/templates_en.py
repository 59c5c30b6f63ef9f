"""The shipped message templates in English."""
# ruff: noqa: E501  (message text: one paragraph per line, as it is sent)

from __future__ import annotations

from tenure.content.shipped.base import ShippedTemplate, letter_en

WELCOME_HTML = """\
<p>{% if contact %}Hi {{ contact.name }},{% else %}Hello {{ account.name }} team,{% endif %}</p>
<p>Welcome aboard! Thank you for choosing us, and welcome to everyone at <strong>{{ account.name }}</strong>.</p>
<p>To see results quickly, we suggest three first steps:</p>
<ol>
  <li>Activate your accounts and invite the core team;</li>
  <li>Set up the basics to match your processes (teams, permissions, data connections);</li>
  <li>Book a 30-minute kickoff call so we can agree on goals and a timeline together.</li>
</ol>
<p>If anything comes up along the way, just reply to this email.</p>
<p>Best regards,<br>{% if owner %}{{ owner.name }}, Customer Success Manager<br>{{ owner.email }}{% else %}The Customer Success team{% endif %}</p>
{% if links.unsubscribe is defined %}
<p style="color:#888;font-size:12px">Prefer not to receive these messages? <a href="{{ links.unsubscribe }}">Unsubscribe</a>.</p>
{% endif %}"""

SURVEY_HTML = """\
<p>{% if contact %}Hi {{ contact.name }},{% else %}Hello {{ account.name }} team,{% endif %}</p>
<p>Thank you for working with us. To keep improving our product and service, could you spare one minute for a single question?</p>
<p><strong>How likely are you to recommend us to a friend or colleague? (0–10)</strong></p>
<p><a href="{{ links.survey }}" style="display:inline-block;padding:10px 20px;background:#2563eb;color:#fff;border-radius:6px;text-decoration:none">Rate us now</a></p>
<p>It is one score and an optional comment. Our Customer Success team reads and follows up on every response.</p>
<p>Best regards,<br>{% if owner %}{{ owner.name }}, Customer Success Manager{% else %}The Customer Success team{% endif %}</p>
{% if links.unsubscribe is defined %}
<p style="color:#888;font-size:12px">Prefer not to receive these messages? <a href="{{ links.unsubscribe }}">Unsubscribe</a>.</p>
{% endif %}"""

WEEKLY_TIPS = """\
{% set tips = [
  "Save your views. Save the filters you use every day as a view and open it in one click next time; share it with colleagues so everyone works from the same numbers.",
  "Schedule your reports. Set the reports you check every week to arrive by email on Monday morning, with no more manual exports.",
  "Import in bulk. Download the import template, fill in the columns and upload hundreds of rows in minutes; rows with problems are flagged for you.",
  "Turn on notifications. Enable reminders for tasks and approvals in your profile settings so important items never slip past a deadline.",
  "Use global search. Type a customer name, an order number or a keyword into the search box at the top of any page to jump straight to the record.",
] %}
This week's tip: {{ tips[((now[8:10]|int) - 1) // 7] }}

{% if links.tips is defined %}
More tips: {{ links.tips }}

{% endif %}
One tip a week, each learnt in a few minutes. Is there a feature you would like us to cover? Just reply and let us know."""

ALERT = """\
{% if owner %}
Hi {{ owner.name }},
{% else %}
Hello,
{% endif %}

{{ account.name }} ({{ account.external_id }}), an account you own, has raised a risk alert. Please follow up soon.

- Rule: {{ alert.rule_name }}
- Severity: {{ alert.severity }}
- First seen: {{ alert.opened_as_of|date("en") }}
- Health score: {{ scores.health_score|number(1) }}\
{% if scores.health_change is not none %} ({% if scores.health_change > 0 %}+{% endif %}{{ scores.health_change|number(1) }} since the last score){% endif %}

- ARR: {{ account.arr|number }}

Evidence:
{% for name, value in (alert.evidence or {})|dictsort %}
{% if name != "expression" %}
- {{ name }}: {{ value }}
{% endif %}
{% endfor %}
{% if links.account is defined %}

Open the account: {{ links.account }}
{% endif %}"""

TEMPLATES_EN: tuple[ShippedTemplate, ...] = (
    ShippedTemplate(
        key="onboarding_welcome",
        locale="en",
        format="any",
        name="Welcome a new customer",
        subject="Welcome aboard, {{ account.name }}!",
        body=letter_en("""
Welcome aboard! Thank you for choosing us, and welcome to everyone at {{ account.name }}.
{% if owner %}
I'm {{ owner.name }}, your Customer Success Manager. I'll be with your team through go-live and beyond, to make sure you get real value from the platform.
{% else %}
Our Customer Success team will be with you through go-live and beyond, to make sure you get real value from the platform.
{% endif %}

To see results quickly, we suggest three first steps:
1. Activate your accounts and invite the core team.
2. Set up the basics to match your processes (teams, permissions, data connections).
3. Book a 30-minute kickoff call so we can agree on goals and a timeline together.

If anything comes up along the way, just reply to this message. We look forward to a long partnership with {{ account.name }}.
"""),
        html=WELCOME_HTML,
    ),
    ShippedTemplate(
        key="onboarding_tutorial",
        locale="en",
        format="video",
        name="Getting started (video)",
        subject="Getting started: short videos on the core features",
        body=letter_en("""
To help your team get going, we've put together a series of short videos, 3 to 5 minutes each, covering account setup, the core features and the everyday reports.
{% if links.tutorial is defined %}
Watch them here: {{ links.tutorial }}
{% endif %}

The first three episodes are enough to handle day-to-day work on your own. If anything is unclear, just reply to this message.
"""),
    ),
    ShippedTemplate(
        key="onboarding_tutorial",
        locale="en",
        format="document",
        name="Getting started (guide)",
        subject="Getting started: your step-by-step guide",
        body=letter_en("""
To help your team get going, we've put together an illustrated getting-started guide. It follows the order you'll actually work in (account setup, core features, everyday reports), with a screenshot for every step.
{% if links.tutorial is defined %}
Read the guide: {{ links.tutorial }}
{% endif %}

It's worth sharing with the people who will use the platform most. If the guide doesn't answer a question, just reply to this message.
"""),
    ),
    ShippedTemplate(
        key="usage_follow_up",
        locale="en",
        format="any",
        name="Usage check-in",
        subject="{{ account.name }}: a look at the last 30 days",
        body=letter_en("""
Here's a quick look at how {{ account.name }} has used the platform over the last 30 days:
{% if outcomes.logins_30d is not none %}
- Logins: {{ outcomes.logins_30d|number }}
{% endif %}
{% if outcomes.core_usage is not none %}
- Core features in use: {{ outcomes.core_usage|percent }}
{% endif %}
{% if outcomes.days_since_login is not none %}
- Days since the last login: {{ outcomes.days_since_login|number }}
{% endif %}

It looks like the platform is becoming part of your team's routine. I'd love to hear how it's going: which features work best for you, and is anything still getting in the way?

If you have 20 minutes, let's talk. I can share a few suggestions based on how your team works.
"""),
    ),
    ShippedTemplate(
        key="growth_case_study",
        locale="en",
        format="any",
        name="Case study from the same industry",
        subject="How another {% if account.industry %}{{ account.industry }} {% endif %}company gets results with the platform",
        body=letter_en("""
Now that {{ account.name }} is up and running, I thought you might like to see how another {% if account.industry %}{{ account.industry }} company{% else %}company in your industry{% endif %} uses the platform.

The case study covers:
1. The challenges they faced early on, and how they adapted the way they work;
2. The measurable gains in time and cost once the core features were in place;
3. Practical lessons from rolling it out across their teams.
{% if links.case_study is defined %}

Read the case study: {{ links.case_study }}
{% endif %}

If some of their approach could work for {{ account.name }}, I'd be happy to walk through it with you.
"""),
    ),
    ShippedTemplate(
        key="webinar_invitation",
        locale="en",
        format="any",
        name="Webinar invitation",
        subject="You're invited: customer stories and what's new, live online",
        body=letter_en("""
We're hosting a live webinar where customers share what has worked for them and our product team walks through the latest features. It runs about 60 minutes, with time for questions at the end.
{% if links.webinar is defined %}

Register here: {{ links.webinar }}
{% endif %}

Places are limited, so feel free to bring colleagues along. If the time doesn't suit you, register anyway and we'll send you the recording.
"""),
    ),
    ShippedTemplate(
        key="optimisation_advice",
        locale="en",
        format="any",
        name="Advice to get more out of the platform",
        subject="A few ways {{ account.name }} could get more from the platform",
        body=letter_en("""
We've looked at how {{ account.name }} used the platform over the last 30 days\
{% if outcomes.core_usage is not none %}: your team currently uses {{ outcomes.core_usage|percent }} of the core features\
{% if outcomes.core_features_used_30d is not none %} ({{ outcomes.core_features_used_30d|number }} of them){% endif %}\
{% endif %}.

Based on what works for similar customers, these changes usually pay off quickly:
1. Let scheduled reports take over the routine number-crunching;
2. Give each role its own workspace, so the features they use most are one click away;
3. Review the numbers once a month to spot bottlenecks early.

If it helps, I can set up a 30-minute call to go through your processes and suggest a concrete setup.
"""),
    ),
    ShippedTemplate(
        key="upsell_module",
        locale="en",
        format="any",
        name="Add-on module recommendation",
        subject="For {{ account.name }}: add-ons to take your results further",
        body=letter_en("""
Thank you for making such good use of the platform. Your team clearly has the core features well in hand, so this may be the right moment to extend those results to more of your business with our add-on modules:
- Advanced analytics: custom multi-dimensional reports and trend forecasts;
- Workflow automation: approvals and reminders that move across departments on their own;
- Open API: connect your existing systems and stop entering data twice.

If you're interested, I can arrange a demo and a trial for your team, so you can see the results before you decide.
"""),
    ),
    ShippedTemplate(
        key="advisory_board_invitation",
        locale="en",
        format="any",
        name="Customer advisory board invitation",
        subject="An invitation to join our Customer Advisory Board",
        body=letter_en("""
{{ account.name }} is a partner we value greatly, and your perspective on the business and the product has often shaped our thinking. We're forming a Customer Advisory Board, and we would be delighted if you would join it.

Board members:
- Meet online once a quarter (about 90 minutes) with our product leaders;
- Try new features first and help shape the product roadmap;
- Exchange ideas with leaders from other companies at the forefront of their industries.

If you'd like to take part, simply reply to this message and I'll send you the details.
"""),
    ),
    ShippedTemplate(
        key="renewal_offer",
        locale="en",
        format="any",
        name="Renewal reminder and offer",
        subject="{{ account.name }}: your renewal",
        body=letter_en("""
{% if account.renewal_date %}
Your current contract runs until {{ account.renewal_date|date("en") }}. Thank you for your trust and partnership so far!
{% else %}
Your current contract is coming up for renewal. Thank you for your trust and partnership so far!
{% endif %}

As a thank-you to existing customers, renewing before the end of your contract comes with a renewal discount. All your settings and history stay exactly as they are, with no interruption to service.
{% if links.renewal is defined %}
Your renewal options: {{ links.renewal }}
{% endif %}

I'll be in touch shortly to set up a short call: we'll look back at what your team has achieved and agree on the renewal that fits your plans for the year ahead. If you have any questions in the meantime, just let me know.
"""),
    ),
    ShippedTemplate(
        key="feature_tutorial",
        locale="en",
        format="video",
        name="Feature tutorial (video, no login for 3 days)",
        subject="A 3-minute video to get you going",
        body=letter_en("""
We haven't seen you on the platform for a few days, so I wanted to check whether anything is getting in the way.

We've recorded a 3-minute video showing the features people use most, to help you pick up where you left off.
{% if links.tutorial is defined %}
Watch it here: {{ links.tutorial }}
{% endif %}

If you're stuck on something specific, just reply to this message and I'll help you sort it out.
"""),
    ),
    ShippedTemplate(
        key="feature_tutorial",
        locale="en",
        format="document",
        name="Feature tutorial (guide, no login for 3 days)",
        subject="A quick guide to get you going",
        body=letter_en("""
We haven't seen you on the platform for a few days, so I wanted to check whether anything is getting in the way.

We've put together a short illustrated guide to the features people use most; it takes just a few minutes to read.
{% if links.tutorial is defined %}
Read it here: {{ links.tutorial }}
{% endif %}

If you're stuck on something specific, just reply to this message and I'll help you sort it out.
"""),
    ),
    ShippedTemplate(
        key="feature_case_study",
        locale="en",
        format="any",
        name="Getting more from a favourite feature",
        subject="More you can do with the features you use most",
        body=letter_en("""
Your team has been very active on the platform lately\
{% if outcomes.events_30d is not none %} ({{ outcomes.events_30d|number }} actions in the last 30 days){% endif %}\
. Here's how another customer took the same features further: by adding automation rules and tailored reports, they cut the time their everyday work takes considerably.
{% if links.case_study is defined %}

Read the case study: {{ links.case_study }}
{% endif %}

If you'd like to try something similar at {{ account.name }}, I can help you map out the setup.
"""),
    ),
    ShippedTemplate(
        key="weekly_tips",
        locale="en",
        format="any",
        name="Weekly tip",
        subject="Tip of the week: save time on everyday work",
        body=letter_en(WEEKLY_TIPS),
    ),
    ShippedTemplate(
        key="monthly_industry_insight",
        locale="en",
        format="any",
        name="Monthly industry insight",
        subject="{% if account.industry %}{{ account.industry|capitalize }} industry insight{% else %}Industry insight{% endif %}: {{ now|month('en') }}",
        body=letter_en("""
Our {{ now|month('en') }} {% if account.industry %}{{ account.industry }} {% endif %}industry insight is ready. In this issue:
- Industry news: policy and market changes worth watching;
- What we're seeing: how companies in your industry run their operations digitally;
- Try this: three small steps you can take on the platform right away.
{% if links.insight is defined %}

Read the full issue: {{ links.insight }}
{% endif %}

We hope it's useful for {{ account.name }}'s planning. If you'd like to discuss what it means for your business, I'm always happy to talk.
"""),
    ),
    ShippedTemplate(
        key="alert_notification",
        locale="en",
        format="any",
        name="Risk alert (to the owning CSM)",
        subject="[{{ alert.severity|upper }}] {{ account.name }}: {{ alert.rule_name }}",
        body=ALERT,
    ),
    ShippedTemplate(
        key="nps_survey",
        locale="en",
        format="any",
        name="NPS survey",
        subject="One quick question: would you recommend us?",
        body=letter_en("""
Thank you for working with us. To keep improving our product and service, could you spare one minute for a single question?

How likely are you to recommend us to a friend or colleague? (0–10)
{{ links.survey }}

It is one score and an optional comment. Our Customer Success team reads and follows up on every response.
"""),
        html=SURVEY_HTML,
    ),
    ShippedTemplate(
        key="nps_reminder",
        locale="en",
        format="any",
        name="NPS survey reminder",
        subject="A gentle reminder: we'd value your feedback",
        body=letter_en("""
A few days ago we asked for your feedback in a short survey; perhaps it arrived at a busy moment. It takes just one minute:
{{ links.survey }}

If you've already answered, please ignore this message, and thank you again for your feedback!
"""),
    ),
)
