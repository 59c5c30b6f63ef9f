"""English texts of the demo data set."""

from __future__ import annotations

from tenure.demo.texts import LocaleText

EN = LocaleText(
    code="en",
    faker_locale="en_US",
    language="en-US",
    currency="USD",
    arr_unit=1 / 7.0,
    industry_labels={
        "manufacturing": "Manufacturing",
        "retail": "Retail",
        "technology": "Technology",
        "finance": "Financial Services",
        "healthcare": "Healthcare",
        "logistics": "Logistics",
        "education": "Education",
        "energy": "Energy",
    },
    industry_words={
        "manufacturing": ("Manufacturing", "Industries", "Components", "Machinery"),
        "retail": ("Retail", "Stores", "Brands", "Commerce"),
        "technology": ("Technologies", "Software", "Labs", "Systems"),
        "finance": ("Capital", "Financial", "Partners", "Insurance"),
        "healthcare": ("Health", "Medical", "Biosciences", "Care"),
        "logistics": ("Logistics", "Freight", "Supply Chain", "Shipping"),
        "education": ("Learning", "Education", "Academy"),
        "energy": ("Energy", "Power", "Renewables"),
    },
    regions=(
        ("US East", "", "America/New_York"),
        ("US Central", "", "America/Chicago"),
        ("US West", "", "America/Los_Angeles"),
        ("UK & Ireland", "", "Europe/London"),
        ("DACH", "", "Europe/Berlin"),
        ("France & Benelux", "", "Europe/Paris"),
        ("Nordics", "", "Europe/Stockholm"),
    ),
    name_suffixes=("Inc", "LLC", "Ltd", "Group", "Corp"),
    departments={"admin": "IT", "manager": "Customer Success", "csm": "Customer Success"},
    titles={
        "decision_maker": ("CEO", "COO", "CIO", "VP Operations", "Head of Digital"),
        "key_user": ("Operations Manager", "Analytics Lead", "IT Manager", "Systems Administrator"),
        "champion": ("Director of Operations", "Digital Program Lead", "Product Manager"),
        "user": ("Operations Specialist", "Data Analyst", "Sales Lead", "Support Lead", "Buyer"),
        "billing": ("Finance Manager", "Procurement Manager", "Controller"),
    },
    channels=(("email", 0.6), ("slack", 0.25), ("phone", 0.15)),
    message_channel="slack",
    base_products=(
        "Operations Platform Standard",
        "Operations Platform Professional",
        "Operations Platform Enterprise",
    ),
    addons=("Advanced Analytics", "Workflow Automation", "Open API Suite"),
    services=("Implementation Services", "Training"),
    tickets={
        "how_to": (
            (
                "How do I set up an approval flow?",
                "We want a two-step approval on purchase orders.",
            ),
            (
                "Bulk user provisioning",
                "Twenty people join next week; can we create accounts in bulk?",
            ),
            ("Dashboard permissions", "Department heads should only see their own team's data."),
        ),
        "bug": (
            ("CSV export garbles characters", "Accented names come out garbled in the export."),
            ("Workflow did not trigger", "Three scheduled workflows did not run yesterday."),
            ("Mobile layout broken", "Charts overlap on the report page on mobile."),
        ),
        "performance": (
            ("Reports load slowly", "The monthly report takes over twenty seconds to open."),
            ("Slow at peak hours", "The app slows down noticeably around 10 am every day."),
        ),
        "data_import": (
            ("Import fails on row 38", "The supplier import rejects row 38 but it looks fine."),
            ("Import template", "Could you send the latest customer import template?"),
        ),
        "integration": (
            ("ERP integration", "We want to sync orders from NetSuite. Is there a connector?"),
            ("Slack notifications", "How do we route alerts to a Slack channel?"),
        ),
        "billing": (
            ("Invoice address change", "Please bill our subsidiary from this month on."),
            ("Renewal quote", "Please send a formal quote for next year's renewal."),
        ),
        "feature_request": (
            ("Bulk edit", "We'd like to change owners in bulk from the list page."),
            ("More dashboard templates", "Industry dashboard templates would help us a lot."),
        ),
    },
    complaints=(
        (
            "bug",
            "System keeps freezing",
            "The app froze several times this week; the team cannot work. This is unacceptable.",
        ),
        (
            "support_quality",
            "Still unresolved after weeks",
            "The export issue we reported last "
            "month is still open and support keeps asking us to wait.",
        ),
        (
            "performance",
            "Cannot log in at peak",
            "Login failed again this morning, the third time this month. We need a date for a fix.",
        ),
        (
            "billing",
            "Renewal price increase",
            "The renewal quote is much higher than last year with no real improvement.",
        ),
        (
            "data_import",
            "Sync error cost us money",
            "A sync error left our stock numbers wrong and caused real losses.",
        ),
        (
            "bug",
            "Upgrade broke our approvals",
            "Since the last release all our approval flows fail. Formal complaint.",
        ),
    ),
    hidden_need=(
        (
            "Need more flexible analysis",
            "The reports are too rigid; we need to slice by region "
            "and channel freely. Is there a way?",
        ),
        (
            "Custom report fields?",
            "Management wants its own definitions; can report fields be customised?",
        ),
    ),
    nps_comments={
        "promoter": (
            "Rock solid and support is fast.",
            "Cut our inventory costs noticeably.",
            "Our CSM is great and the training was excellent.",
            "Automation saves us hours every week.",
        ),
        "passive": (
            "Good overall, some gaps.",
            "A bit pricey but it works.",
            "Reports could be more flexible.",
            "Meets our needs.",
        ),
        "detractor": (
            "Issues reported repeatedly and never fixed.",
            "Slow and unreliable lately.",
            "Not worth the price; evaluating alternatives.",
            "Too little training, the team won't use it.",
        ),
    },
    interactions={
        "email": (
            "Sent the monthly usage report",
            "Followed up on last week's action items",
            "Shared the new feature guide",
        ),
        "call": ("Check-in call on adoption", "Discussed renewal intent", "Helped debug a report"),
        "meeting": (
            "On-site visit: business plans for next year",
            "1:1 training with key users",
            "Joined the customer's project weekly",
        ),
        "qbr": (
            "QBR: reviewed usage and goal attainment",
            "QBR: next-quarter priorities and expansion plan",
        ),
        "message": (
            "Slack: answered a permissions question",
            "Slack: release announcement",
            "Slack: ticket status update",
        ),
        "onboarding": (
            "Kick-off: go-live plan and success criteria",
            "Go-live training: core features",
        ),
        "renewal": ("Renewal call: confirmed terms (20% off on renewal plus the latest version)",),
        "upsell": ("Scoped the add-on module and sent a proposal", "Add-on module signed"),
        "rescue": (
            "Save play: executive call on issues and a fix plan",
            "Save play: offered a renewal discount and dedicated support",
        ),
    },
    social={
        "positive": (
            "This tool made our team so much faster. Recommended!",
            "Support answered in minutes, impressive.",
        ),
        "neutral": (
            "Watched their webinar, decent content.",
            "Anyone using their workflow feature?",
        ),
        "negative": (
            "This product keeps getting worse and nobody fixes anything.",
            "Price hike at renewal and still slow. Switching soon.",
            "Support is useless, would not recommend.",
        ),
    },
    churn_reasons={
        "low_adoption": "Exit interview: low adoption, the rollout never took hold.",
        "price": "Exit interview: renewal price above budget, poor value for money.",
        "competitor": "Exit interview: moved to a competitor offering a lower price.",
        "support_quality": "Exit interview: slow support, repeated complaints unresolved.",
        "product_fit": "Exit interview: product does not fit (no flexible analysis).",
        "budget_cut": "Exit interview: IT budget cut, all subscriptions paused.",
        "champion_left": "Exit interview: internal champion left, new team stopped using it.",
    },
)
