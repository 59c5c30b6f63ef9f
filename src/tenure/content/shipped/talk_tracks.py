"""Starter talk tracks in zh-CN and en: typical policies of a B2B SaaS vendor, to be adapted
to the company's own terms before the team relies on them."""
# ruff: noqa: E501  (message text: one paragraph per line, as it is sent)

from __future__ import annotations

from tenure.content.shipped.base import ShippedTalkTrack

TALK_TRACKS: tuple[ShippedTalkTrack, ...] = (
    ShippedTalkTrack(
        key="renewal_terms",
        locale="zh-CN",
        topic="续约条款",
        question="合同到期后怎么续约？续约价格会变吗？",
        answer=(
            "合同到期前 60 天，您的客户成功经理会主动联系您，确认续约方案。默认按现有的产品和用量续约，"
            "价格以续约时有效的价目表为准；在到期前完成续约的客户可享受老客户续约优惠，全部配置和历史数据"
            "完整保留，服务不中断。如需增减用户数或模块，可在续约时一并调整。\n\n"
            "合同到期后有 30 天宽限期：数据保留，账号转为只读。宽限期满仍未续约的，按合同中的数据处理约定"
            "返还或删除数据。"
        ),
        tags=["续约", "合同", "价格"],
        department="客户成功部",
    ),
    ShippedTalkTrack(
        key="renewal_terms",
        locale="en",
        topic="Renewal terms",
        question="How does renewal work, and will the price change?",
        answer=(
            "Your Customer Success Manager contacts you 60 days before the contract ends to agree on "
            "the renewal. By default the contract renews with the same products and volumes, at "
            "the list prices in force at renewal; customers who renew before the end date receive "
            "a renewal discount, keep all their settings and history, and see no interruption of "
            "service. Users or modules can be added or removed at renewal.\n\n"
            "After the end date there is a 30-day grace period: data is kept and accounts become "
            "read-only. If the contract is still not renewed after that, data is returned or "
            "deleted as the contract's data-processing terms say."
        ),
        tags=["renewal", "contract", "pricing"],
        department="Customer Success",
    ),
    ShippedTalkTrack(
        key="pricing_discounts",
        locale="zh-CN",
        topic="价格与折扣政策",
        question="能不能再便宜一点？你们的折扣政策是什么？",
        answer=(
            "我们统一按标准价目表报价，价格取决于所选版本、用户数和合同期限。统一的优惠政策是：一次签约"
            "两年及以上，或年度合同金额达到一定规模，可以申请阶梯折扣；非营利组织和教育机构另有专项价格。\n\n"
            "所有折扣都需要经过销售负责人审批并写入合同，任何人都不能口头承诺额外折扣或赠送。客户提出特殊"
            "价格需求时，请记录具体需求（版本、用户数、期限、预算）并转交销售负责人，我们会在 2 个工作日内"
            "给出答复。"
        ),
        tags=["价格", "折扣", "报价", "商务"],
        department="销售部",
    ),
    ShippedTalkTrack(
        key="pricing_discounts",
        locale="en",
        topic="Pricing and discount policy",
        question="Can you do a better price? What is your discount policy?",
        answer=(
            "We quote from one standard price list; the price depends on the edition, the number "
            "of users and the contract term. Our discount policy is the same for everyone: a term "
            "of two years or more, or an annual contract above a set value, qualifies for tiered "
            "discounts, and non-profits and education have dedicated pricing.\n\n"
            "Every discount is approved by the head of sales and written into the contract; nobody "
            "may promise extra discounts or free items verbally. When a customer asks for special "
            "pricing, note what they need (edition, users, term, budget) and pass it to the head "
            "of sales: we answer within 2 business days."
        ),
        tags=["pricing", "discount", "quote", "commercial"],
        department="Sales",
    ),
    ShippedTalkTrack(
        key="data_security_pipl",
        locale="zh-CN",
        topic="数据安全与个人信息保护（PIPL）",
        question="我们的数据安全吗？是否符合《个人信息保护法》的要求？",
        answer=(
            "我们严格遵循《个人信息保护法》（PIPL）、《数据安全法》和《网络安全法》的要求：\n"
            "1. 数据存储在中国境内的数据中心，默认不出境；确需出境的，会事先征得您的同意，并依法完成安全"
            "评估或标准合同备案。\n"
            "2. 数据传输全程加密（TLS 1.2 及以上），存储加密；内部访问遵循最小权限原则，需审批，所有操作留痕"
            "可审计。\n"
            "3. 我们作为受托处理方，仅按您的指示处理个人信息，并与您签订数据处理协议（DPA）。\n"
            "4. 您可以随时导出数据或要求删除；发生安全事件时，我们会按法规要求第一时间通知您。\n\n"
            "安全认证证书和测评报告可在签署保密协议后提供。"
        ),
        tags=["数据安全", "隐私", "个人信息保护法", "PIPL", "合规"],
        department="法务与信息安全部",
    ),
    ShippedTalkTrack(
        key="data_security_pipl",
        locale="en",
        topic="Data security and personal information protection (PIPL)",
        question="Is our data safe? Do you comply with China's Personal Information Protection Law?",
        answer=(
            "We follow the Personal Information Protection Law (PIPL), the Data Security Law and "
            "the Cybersecurity Law:\n"
            "1. Data is stored in data centres in mainland China and does not leave the country by "
            "default; any cross-border transfer needs your prior consent and the security "
            "assessment or standard-contract filing the law requires.\n"
            "2. Data is encrypted in transit (TLS 1.2 or later) and at rest; staff access follows "
            "least privilege, needs approval and is logged for audit.\n"
            "3. As your processor we handle personal information only on your instructions, under a "
            "data processing agreement (DPA) signed with you.\n"
            "4. You can export your data or ask us to delete it at any time; if a security incident "
            "occurs, we notify you promptly as the law requires.\n\n"
            "Certificates and audit reports are available under a non-disclosure agreement."
        ),
        tags=["security", "privacy", "PIPL", "compliance"],
        department="Legal & Security",
    ),
    ShippedTalkTrack(
        key="sla_support_hours",
        locale="zh-CN",
        topic="SLA 与技术支持时间",
        question="你们的服务可用性承诺是多少？出了问题多久能响应？",
        answer=(
            "系统可用性承诺为 99.9%（按月统计，不含计划内维护；计划内维护会提前 3 个工作日通知）。\n\n"
            "技术支持服务时间为工作日 9:00–18:00（北京时间）；紧急故障提供 7×24 小时支持：\n"
            "- P1（系统不可用或核心功能中断）：15 分钟内响应，4 小时内给出解决或临时方案；\n"
            "- P2（重要功能受影响）：2 小时内响应；\n"
            "- P3（一般问题与咨询）：1 个工作日内响应。\n\n"
            "如当月可用性未达到承诺，按合同约定给予服务费抵扣。"
        ),
        tags=["SLA", "技术支持", "服务时间", "响应时间", "故障"],
        department="技术支持部",
    ),
    ShippedTalkTrack(
        key="sla_support_hours",
        locale="en",
        topic="SLA and support hours",
        question="What uptime do you commit to, and how fast do you respond to problems?",
        answer=(
            "We commit to 99.9% availability, measured monthly, excluding planned maintenance "
            "(announced at least 3 business days ahead).\n\n"
            "Support is available on business days from 9:00 to 18:00 (China Standard Time), with "
            "24/7 cover for urgent incidents:\n"
            "- P1 (service down or a core feature unavailable): response within 15 minutes, a fix "
            "or workaround within 4 hours;\n"
            "- P2 (an important feature impaired): response within 2 hours;\n"
            "- P3 (general questions and minor issues): response within 1 business day.\n\n"
            "If availability falls short in a month, service credits apply as the contract sets out."
        ),
        tags=["SLA", "support", "uptime", "response time", "incident"],
        department="Support",
    ),
    ShippedTalkTrack(
        key="onboarding_timeline",
        locale="zh-CN",
        topic="上线实施周期",
        question="从签约到正式上线需要多长时间？",
        answer=(
            "标准实施周期约 4–6 周：\n"
            "- 第 1 周：启动会，确认上线目标、双方负责人和项目计划；\n"
            "- 第 2–3 周：系统配置、数据迁移与系统对接；\n"
            "- 第 4 周：管理员和核心用户培训；\n"
            "- 第 5–6 周：试运行与验收，之后转入常态化的客户成功服务。\n\n"
            "涉及复杂系统对接或大规模数据迁移的，实施周期会在启动会上单独评估。为保证进度，客户方需指定"
            "一名项目负责人，并安排关键人员参加培训。"
        ),
        tags=["上线", "实施", "新客户", "培训", "周期"],
        department="实施交付部",
    ),
    ShippedTalkTrack(
        key="onboarding_timeline",
        locale="en",
        topic="Onboarding timeline",
        question="How long does it take from signing to go-live?",
        answer=(
            "A standard implementation takes 4 to 6 weeks:\n"
            "- Week 1: kickoff, to agree on goals, owners on both sides and the plan;\n"
            "- Weeks 2-3: configuration, data migration and integrations;\n"
            "- Week 4: training for administrators and key users;\n"
            "- Weeks 5-6: pilot and sign-off, then ongoing customer success.\n\n"
            "Complex integrations or large data migrations are scoped separately at the kickoff. "
            "To keep to the timeline, the customer names a project lead and makes the key people "
            "available for training."
        ),
        tags=["onboarding", "implementation", "go-live", "training"],
        department="Delivery",
    ),
    ShippedTalkTrack(
        key="cancellation_process",
        locale="zh-CN",
        topic="解约流程",
        question="如果我们不想继续使用了，怎么解约？数据怎么处理？",
        answer=(
            "1. 先了解并记录解约原因，客户成功经理会在 2 个工作日内与客户沟通，尽力解决问题。\n"
            "2. 确认解约的，需由客户授权人以书面形式（邮件或正式函件）提出，并按合同约定的提前通知期执行"
            "（通常为 30 天）。\n"
            "3. 已支付的费用按合同条款处理，合同期内一般不予退款。\n"
            "4. 合同终止后，客户可在 30 天内导出全部数据；期满后我们会安全删除数据，并可出具删除证明。\n\n"
            "请注意：未经确认，不要口头答应解约或承诺退款。"
        ),
        tags=["解约", "退订", "流失", "数据删除", "退款"],
        department="客户成功部",
    ),
    ShippedTalkTrack(
        key="cancellation_process",
        locale="en",
        topic="Cancellation process",
        question="How do we cancel if we decide to stop, and what happens to our data?",
        answer=(
            "1. First understand and record the reason: the Customer Success Manager talks to the "
            "customer within 2 business days and tries to resolve the problem.\n"
            "2. A confirmed cancellation is made in writing (email or letter) by an authorised "
            "person at the customer, with the notice period in the contract (usually 30 days).\n"
            "3. Fees already paid are handled as the contract says; there is normally no refund for "
            "the remaining term.\n"
            "4. After termination the customer can export all data for 30 days; we then delete it "
            "securely and can issue a certificate of deletion.\n\n"
            "Never agree to a cancellation or promise a refund verbally before it is confirmed."
        ),
        tags=["cancellation", "churn", "data deletion", "refund"],
        department="Customer Success",
    ),
)
