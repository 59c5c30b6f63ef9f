"""The shipped message templates in Simplified Chinese."""
# ruff: noqa: E501  (message text: one paragraph per line, as it is sent)

from __future__ import annotations

from tenure.content.shipped.base import ShippedTemplate, letter_zh

SEVERITY_ZH = '{"critical": "紧急", "high": "高", "medium": "中", "low": "低"}'

WELCOME_HTML = """\
<p>{% if contact %}{{ contact.name }}，您好！{% else %}{{ account.name }}的各位伙伴，大家好！{% endif %}</p>
<p>欢迎<strong>{{ account.name }}</strong>正式成为我们的客户，感谢您的信任！</p>
<p>为了让团队尽快看到成效，建议先完成以下三步：</p>
<ol>
  <li>完成账号开通，邀请核心成员加入；</li>
  <li>按业务流程完成基础配置（组织架构、权限与数据接入）；</li>
  <li>预约一次 30 分钟的启动会，一起确认上线目标和时间表。</li>
</ol>
<p>上线过程中有任何问题，直接回复本邮件即可。</p>
<p>{% if owner %}{{ owner.name }}｜客户成功经理<br>{{ owner.email }}{% else %}客户成功团队{% endif %}</p>
{% if links.unsubscribe is defined %}
<p style="color:#888;font-size:12px">如不希望再收到此类消息，可<a href="{{ links.unsubscribe }}">点此退订</a>。</p>
{% endif %}"""

SURVEY_HTML = """\
<p>{% if contact %}{{ contact.name }}，您好！{% else %}{{ account.name }}的各位伙伴，大家好！{% endif %}</p>
<p>感谢{{ account.name }}一直以来的支持。为了持续改进产品和服务，想邀请您花 1 分钟回答一个问题：</p>
<p><strong>您有多大可能向朋友或同事推荐我们？（0–10 分）</strong></p>
<p><a href="{{ links.survey }}" style="display:inline-block;padding:10px 20px;background:#2563eb;color:#fff;border-radius:6px;text-decoration:none">立即评分</a></p>
<p>问卷只有一道评分题和一个选填的意见栏。每一条反馈，客户成功团队都会认真阅读并跟进。</p>
<p>{% if owner %}{{ owner.name }}｜客户成功经理{% else %}客户成功团队{% endif %}</p>
{% if links.unsubscribe is defined %}
<p style="color:#888;font-size:12px">如不希望再收到此类消息，可<a href="{{ links.unsubscribe }}">点此退订</a>。</p>
{% endif %}"""

WEEKLY_TIPS = """\
{% set tips = [
  "善用「保存视图」。把常用的筛选条件保存为视图，下次一键打开，不必重复设置；视图还可以共享给同事，保证大家看数的口径一致。",
  "试试「定时报表」。把每周要看的报表设置为定时发送，周一早上自动送到邮箱，省去手工导出和整理的时间。",
  "用好「批量导入」。下载导入模板，按列填好后一次上传，几百条数据几分钟就能录入完毕，系统会自动校验并提示有问题的行。",
  "开启「消息提醒」。在个人设置里打开待办和审批提醒，重要事项第一时间收到通知，不再错过截止时间。",
  "掌握「全局搜索」。在页面顶部的搜索框输入客户名称、单号或关键词，即可直达相关记录，比逐级点击菜单快得多。",
] %}
本周小技巧：{{ tips[((now[8:10]|int) - 1) // 7] }}

{% if links.tips is defined %}
更多使用技巧：{{ links.tips }}

{% endif %}
每周一条，几分钟就能学会。如果有特别想了解的功能，也欢迎直接回复告诉我们。"""

ALERT = (
    "{% set levels = " + SEVERITY_ZH + " %}\n"
    """\
{% if owner %}
{{ owner.name }}，您好：
{% else %}
您好：
{% endif %}

您负责的客户{{ account.name }}（{{ account.external_id }}）触发了风险预警，请尽快跟进。

- 预警规则：{{ alert.rule_name }}
- 严重程度：{{ levels.get(alert.severity, alert.severity) }}
- 首次出现：{{ alert.opened_as_of|date("zh-CN") }}
- 当前健康度：{{ scores.health_score|number(1) }}\
{% if scores.health_change is not none %}（较上期 {% if scores.health_change > 0 %}+{% endif %}{{ scores.health_change|number(1) }}）{% endif %}

- 年度经常性收入（ARR）：{{ account.arr|number }}

触发依据：
{% for name, value in (alert.evidence or {})|dictsort %}
{% if name != "expression" %}
- {{ name }}：{{ value }}
{% endif %}
{% endfor %}
{% if links.account is defined %}

查看客户详情：{{ links.account }}
{% endif %}"""
)

TEMPLATES_ZH: tuple[ShippedTemplate, ...] = (
    ShippedTemplate(
        key="onboarding_welcome",
        locale="zh-CN",
        format="any",
        name="新客户欢迎",
        subject="欢迎加入！{{ account.name }}的专属客户成功服务已开启",
        body=letter_zh("""
欢迎{{ account.name }}正式成为我们的客户，感谢您的信任！
{% if owner %}
我是{{ owner.name }}，接下来将作为贵司的专属客户成功经理，陪伴团队顺利上线、用好平台。
{% else %}
接下来，我们的客户成功团队将陪伴贵司顺利上线、用好平台。
{% endif %}

为了让团队尽快看到成效，建议先完成以下三步：
1. 完成账号开通，邀请核心成员加入；
2. 按业务流程完成基础配置（组织架构、权限与数据接入）；
3. 预约一次 30 分钟的启动会，一起确认上线目标和时间表。

上线过程中有任何问题，直接回复本消息即可。期待与{{ account.name }}长期合作！
"""),
        html=WELCOME_HTML,
    ),
    ShippedTemplate(
        key="onboarding_tutorial",
        locale="zh-CN",
        format="video",
        name="新手入门教程（视频）",
        subject="入门视频：几分钟带您上手核心功能",
        body=letter_zh("""
为了帮助团队快速上手，我们准备了一组入门视频，每段 3–5 分钟，依次讲解账号设置、核心功能和常用报表。
{% if links.tutorial is defined %}
观看地址：{{ links.tutorial }}
{% endif %}

建议先看前三集，看完即可独立完成日常操作。观看中有任何疑问，欢迎随时回复本消息。
"""),
    ),
    ShippedTemplate(
        key="onboarding_tutorial",
        locale="zh-CN",
        format="document",
        name="新手入门教程（图文）",
        subject="新手入门指南：图文版操作手册",
        body=letter_zh("""
为了帮助团队快速上手，我们整理了一份图文版入门指南，按实际操作顺序编排：账号设置、核心功能、常用报表，每一步都配有截图，方便随时查阅。
{% if links.tutorial is defined %}
指南链接：{{ links.tutorial }}
{% endif %}

建议把指南转给团队中的主要使用者，遇到问题可以先查阅对应章节；如果仍有疑问，欢迎随时回复本消息。
"""),
    ),
    ShippedTemplate(
        key="usage_follow_up",
        locale="zh-CN",
        format="any",
        name="使用情况跟进",
        subject="{{ account.name }}近期使用情况回顾",
        body=letter_zh("""
想和您同步一下{{ account.name }}近 30 天的使用情况：
{% if outcomes.logins_30d is not none %}
- 登录次数：{{ outcomes.logins_30d|number }} 次
{% endif %}
{% if outcomes.core_usage is not none %}
- 核心功能使用率：{{ outcomes.core_usage|percent }}
{% endif %}
{% if outcomes.days_since_login is not none %}
- 距上次登录：{{ outcomes.days_since_login|number }} 天
{% endif %}

整体来看，团队已经把平台用进了日常工作。想听听您的感受：目前用得最顺手的是哪些功能？有没有哪个环节还不太方便？

如果方便，我们可以约 20 分钟简单聊聊，我会结合贵司的使用情况给出一些具体建议。
"""),
    ),
    ShippedTemplate(
        key="growth_case_study",
        locale="zh-CN",
        format="any",
        name="同行业客户案例",
        subject="{% if account.industry %}{{ account.industry }}{% else %}同行业{% endif %}客户案例：他们是如何用出成效的",
        body=letter_zh("""
{{ account.name }}已经进入稳定使用阶段，这里分享一个{% if account.industry %}{{ account.industry }}{% else %}同行业{% endif %}客户的实践案例，供团队参考。

案例重点介绍了：
1. 他们在上线初期遇到的挑战，以及如何调整使用方式；
2. 用好核心功能后，在效率和成本上取得的可量化成果；
3. 在团队内部推广时积累的实用经验。
{% if links.case_study is defined %}

案例全文：{{ links.case_study }}
{% endif %}

如果您觉得其中的做法适合{{ account.name }}，我很乐意约个时间，一起看看怎么落地。
"""),
    ),
    ShippedTemplate(
        key="webinar_invitation",
        locale="zh-CN",
        format="any",
        name="线上分享会邀请",
        subject="【诚邀参会】线上分享会：客户实战经验与新功能解读",
        body=letter_zh("""
我们将举办一场线上分享会，邀请多家客户分享实战经验，并由产品团队讲解近期上线的新功能。会议时长约 60 分钟，最后留有答疑环节。
{% if links.webinar is defined %}

报名链接：{{ links.webinar }}
{% endif %}

名额有限，欢迎您邀请团队的同事一起参加。如果届时不方便，报名后也会收到会议回放。
"""),
    ),
    ShippedTemplate(
        key="optimisation_advice",
        locale="zh-CN",
        format="any",
        name="使用优化建议",
        subject="关于{{ account.name }}使用效果的几点优化建议",
        body=letter_zh("""
我们回顾了{{ account.name }}最近 30 天的使用数据\
{% if outcomes.core_usage is not none %}：目前核心功能使用率为 {{ outcomes.core_usage|percent }}\
{% if outcomes.core_features_used_30d is not none %}（已使用 {{ outcomes.core_features_used_30d|number }} 项核心功能）{% endif %}\
{% endif %}。

结合同类客户的经验，以下几项调整通常能较快见效：
1. 把日常重复的统计工作交给自动化报表，减少手工整理；
2. 为不同岗位配置专属工作台，让常用功能一步直达；
3. 每月做一次数据复盘，及时发现流程中的卡点。

如果方便，我可以安排一次 30 分钟的线上会议，结合贵司的实际流程给出具体的配置建议。
"""),
    ),
    ShippedTemplate(
        key="upsell_module",
        locale="zh-CN",
        format="any",
        name="增值模块推荐",
        subject="为{{ account.name }}推荐：进一步提升效率的增值模块",
        body=letter_zh("""
感谢{{ account.name }}一直以来的深度使用。从近期的使用情况看，团队已经把核心功能用得很扎实，下一步可以考虑通过增值模块，把成效延伸到更多业务环节：
- 高级分析：多维度自定义报表与趋势预测；
- 流程自动化：跨部门审批与提醒自动流转；
- 开放接口：与贵司现有系统打通，减少重复录入。

如果您感兴趣，我可以先安排一次演示，并为团队申请试用，看看实际效果再做决定。
"""),
    ),
    ShippedTemplate(
        key="advisory_board_invitation",
        locale="zh-CN",
        format="any",
        name="客户顾问委员会邀请",
        subject="诚邀您加入我们的客户顾问委员会",
        body=letter_zh("""
{{ account.name }}是我们非常重视的合作伙伴，您对业务和产品的见解也一直给我们很多启发。我们正在组建客户顾问委员会，诚挚邀请您加入。

委员会成员将：
- 每季度参加一次线上研讨（约 90 分钟），与产品负责人直接交流；
- 优先体验新功能，参与产品路线图的讨论；
- 与其他行业领先企业的负责人交流经验。

如您愿意参加，直接回复本消息即可，我会把详细安排发给您。
"""),
    ),
    ShippedTemplate(
        key="renewal_offer",
        locale="zh-CN",
        format="any",
        name="续约提醒与优惠",
        subject="{{ account.name }}服务续约提醒",
        body=letter_zh("""
{% if account.renewal_date %}
贵司当前的服务合同将于 {{ account.renewal_date|date("zh-CN") }} 到期。感谢一直以来的信任与合作！
{% else %}
贵司当前的服务合同即将到期。感谢一直以来的信任与合作！
{% endif %}

为感谢老客户的支持，在合同到期前完成续约可享受续约优惠，现有的全部配置与历史数据完整保留，服务不中断。
{% if links.renewal is defined %}
续约方案详情：{{ links.renewal }}
{% endif %}

近期我会和您约一次简短的沟通，一起回顾这段时间的使用成果，并结合下一阶段的业务规划确认续约方案。如有任何疑问，欢迎随时联系我。
"""),
    ),
    ShippedTemplate(
        key="feature_tutorial",
        locale="zh-CN",
        format="video",
        name="功能教程（视频，3 天未登录）",
        subject="3 分钟视频：常用功能快速上手",
        body=letter_zh("""
最近几天没在平台上看到您，想问问使用中是否遇到了什么不便？

我们录制了一段 3 分钟的操作视频，演示最常用的几项功能，帮您快速找回节奏。
{% if links.tutorial is defined %}
观看地址：{{ links.tutorial }}
{% endif %}

如果有具体问题，直接回复本消息，我会尽快帮您解决。
"""),
    ),
    ShippedTemplate(
        key="feature_tutorial",
        locale="zh-CN",
        format="document",
        name="功能教程（图文，3 天未登录）",
        subject="图文指南：常用功能快速上手",
        body=letter_zh("""
最近几天没在平台上看到您，想问问使用中是否遇到了什么不便？

我们整理了一份图文操作指南，按步骤讲解最常用的几项功能，几分钟就能看完。
{% if links.tutorial is defined %}
指南链接：{{ links.tutorial }}
{% endif %}

如果有具体问题，直接回复本消息，我会尽快帮您解决。
"""),
    ),
    ShippedTemplate(
        key="feature_case_study",
        locale="zh-CN",
        format="any",
        name="功能深度用法案例",
        subject="您常用的功能，还可以这样用",
        body=letter_zh("""
看到团队最近在平台上非常活跃\
{% if outcomes.events_30d is not none %}（近 30 天操作 {{ outcomes.events_30d|number }} 次）{% endif %}\
，想和您分享一个把同类功能用到极致的客户案例：他们在此基础上搭配自动化规则和定制报表，大幅缩短了日常工作的处理时间。
{% if links.case_study is defined %}

案例详情：{{ links.case_study }}
{% endif %}

如果您希望在{{ account.name }}尝试类似的做法，我可以帮忙梳理具体的配置步骤。
"""),
    ),
    ShippedTemplate(
        key="weekly_tips",
        locale="zh-CN",
        format="any",
        name="每周使用小技巧",
        subject="每周小技巧｜让日常工作更省时",
        body=letter_zh(WEEKLY_TIPS),
    ),
    ShippedTemplate(
        key="monthly_industry_insight",
        locale="zh-CN",
        format="any",
        name="月度行业洞察",
        subject="{{ now|month('zh-CN') }}行业洞察{% if account.industry %}｜{{ account.industry }}{% endif %}",
        body=letter_zh("""
{{ now|month('zh-CN') }}行业洞察{% if account.industry %}（{{ account.industry }}）{% endif %}已经整理好了，本期内容包括：
- 行业动态：近期值得关注的政策与市场变化；
- 数据观察：同行业企业在数字化运营上的典型做法；
- 实践建议：结合平台可以马上落地的三个小动作。
{% if links.insight is defined %}

阅读全文：{{ links.insight }}
{% endif %}

希望对{{ account.name }}的业务规划有所帮助。如需结合贵司情况做一次深入交流，欢迎随时联系我。
"""),
    ),
    ShippedTemplate(
        key="alert_notification",
        locale="zh-CN",
        format="any",
        name="风险预警通知（发给负责的客户成功经理）",
        subject="{% set levels = " + SEVERITY_ZH + " %}"
        "【风险预警·{{ levels.get(alert.severity, alert.severity) }}】{{ account.name }}：{{ alert.rule_name }}",
        body=ALERT,
    ),
    ShippedTemplate(
        key="nps_survey",
        locale="zh-CN",
        format="any",
        name="NPS 满意度调研",
        subject="占用您 1 分钟：您会向朋友推荐我们吗？",
        body=letter_zh("""
感谢{{ account.name }}一直以来的支持。为了持续改进产品和服务，想邀请您花 1 分钟回答一个问题：

您有多大可能向朋友或同事推荐我们？（0–10 分）
{{ links.survey }}

问卷只有一道评分题和一个选填的意见栏。每一条反馈，客户成功团队都会认真阅读并跟进。
"""),
        html=SURVEY_HTML,
    ),
    ShippedTemplate(
        key="nps_reminder",
        locale="zh-CN",
        format="any",
        name="NPS 调研提醒",
        subject="温馨提醒：您的反馈对我们很重要",
        body=letter_zh("""
前几天我们邀请您参与一项简短的满意度调研，可能您当时比较忙，还没来得及填写。问卷只需 1 分钟：
{{ links.survey }}

如果您已经填写，请忽略本消息，再次感谢您的反馈！
"""),
    ),
)
