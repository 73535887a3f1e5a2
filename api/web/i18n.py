"""The console's words in Chinese and English. Every label a page shows is a key here; a missing
key is a test failure (``tests/web/test_pages.py``), not a blank on screen."""

from __future__ import annotations

LANGUAGES = ("zh", "en")

MESSAGES: dict[str, tuple[str, str]] = {
    # key: (中文, English)
    "app": ("志愿匹配", "volmatch"),
    "skip": ("跳到正文", "Skip to content"),
    "language": ("语言", "Language"),
    "switch_to": ("English", "中文"),
    "sign_in": ("登录", "Sign in"),
    "sign_out": ("退出", "Sign out"),
    "name": ("用户名", "Account name"),
    "password": ("密码", "Password"),
    "or_token": ("或粘贴访问令牌", "or paste an access token"),
    "token": ("访问令牌", "Access token"),
    "bad_login": ("用户名、密码或令牌不正确", "The name, password or token is not right"),
    "welcome": ("欢迎", "Welcome"),
    "intro": (
        "为每个岗位找到合适的志愿者，为每位志愿者找到合适的岗位。",
        "The right people for each post, the right posts for each person.",
    ),
    # volunteers
    "my_page": ("我的主页", "My page"),
    "recommended": ("为您推荐的活动", "Activities recommended for you"),
    "no_recommendations": ("暂时没有适合您的活动", "No activity suits you right now"),
    "why": ("推荐理由", "Why"),
    "sign_up": ("报名", "Sign up"),
    "join_waitlist": ("排队候补", "Join the waitlist"),
    "places_left": ("剩余名额", "places left"),
    "my_signups": ("我的报名", "My sign-ups"),
    "no_signups": ("还没有报名", "No sign-ups yet"),
    "cancel": ("取消报名", "Cancel"),
    "status": ("状态", "Status"),
    "when": ("时间", "When"),
    "activity": ("活动", "Activity"),
    "hours": ("服务时长", "Service hours"),
    "stars": ("星级", "Stars"),
    "to_next": ("距下一星级还差", "Hours to the next star"),
    "top_tier": ("已达最高星级", "Top tier reached"),
    "certificate": ("下载服务证明", "Download the certificate of service"),
    "calendar": ("日历订阅链接", "Calendar link"),
    "copy": ("复制", "Copy"),
    "copied": ("已复制", "Copied"),
    "check_in_with_code": ("用组织者的签到码签到", "Check in with the organiser's code"),
    "code": ("签到码", "Check-in code"),
    "check_in": ("签到", "Check in"),
    "status_confirmed": ("已确认", "confirmed"),
    "status_waitlisted": ("候补中", "on the waitlist"),
    "status_offered": ("名额待确认", "place offered"),
    "status_invited": ("受邀", "invited"),
    "status_cancelled": ("已取消", "cancelled"),
    "status_late_cancelled": ("迟取消", "cancelled late"),
    "status_declined": ("已婉拒", "declined"),
    "status_expired": ("已过期", "expired"),
    "status_no_show": ("缺席", "no-show"),
    "accept": ("接受", "Accept"),
    "decline": ("婉拒", "Decline"),
    "checked_in": ("已签到", "checked in"),
    "profile": ("我的资料", "My profile"),
    "register": ("注册成为志愿者", "Register as a volunteer"),
    "account_name": ("登录名", "Sign-in name"),
    "password_hint": ("至少8个字符", "At least 8 characters"),
    "password_short": ("密码至少8个字符", "The password needs at least 8 characters"),
    "name_taken": ("该登录名已被使用", "That sign-in name is taken"),
    "display_name": ("姓名", "Name"),
    "phone": ("电话", "Phone"),
    "email": ("电子邮箱", "E-mail"),
    "travel": ("愿意前往的距离（公里）", "How far you will travel (km)"),
    "location": ("位置", "Location"),
    "consent": (
        "同意使用我的精确位置进行匹配（仅用于计算距离，不向组织者显示）",
        "Use my precise location for matching (only to measure distances; organisers never see it)",
    ),
    "no_consent_note": (
        "不同意时，只使用您所在区域的中心位置。",
        "Without consent, only your district's centre is used.",
    ),
    "lat": ("纬度", "Latitude"),
    "lon": ("经度", "Longitude"),
    "use_my_position": ("使用我当前的位置", "Use my current position"),
    "skills": ("技能", "Skills"),
    "skill_search": ("搜索技能（中文或英文）", "Search skills (Chinese or English)"),
    "availability": ("每周空闲时间", "When you are free each week"),
    "certifications": ("证书及有效期", "Certifications and expiry"),
    "expires": ("有效期至", "Expires"),
    "online_ok": ("可以参加线上志愿服务", "I can volunteer online"),
    "save": ("保存", "Save"),
    "grid_note": (
        "只改动您勾选变化的那几天；其他日子的空闲时间保持原样。",
        "Only the days you change are saved from the grid; the other days keep their hours as they are.",
    ),
    "certificate_n": ("证书", "Certificate"),
    "max_shifts": ("每人最多班次", "Shifts per person at most"),
    "saved": ("已保存", "Saved"),
    # organisers
    "my_activities": ("本组织的活动", "Our activities"),
    "new_activity": ("发布新活动", "New activity"),
    "title": ("标题", "Title"),
    "category": ("类别", "Category"),
    "district": ("区域", "District"),
    "start": ("开始", "Starts"),
    "end": ("结束", "Ends"),
    "capacity": ("名额", "Places"),
    "skills_required": ("所需技能（用逗号分隔）", "Skills required (comma-separated)"),
    "create": ("发布", "Publish"),
    "edit": ("修改", "Edit"),
    "description": ("说明", "Description"),
    "new_shift": ("新增班次", "A new shift"),
    "keep": ("保留此班次", "Keep this shift"),
    "check_out": ("签退", "Check out"),
    "no_show": ("记为缺席", "Mark no-show"),
    "checked_out": ("已签退", "checked out"),
    "hours_approved": ("时长已核准", "hours approved"),
    "shifts": ("班次", "Shifts"),
    "open": ("查看", "Open"),
    "suggested": ("推荐的志愿者", "Suggested volunteers"),
    "distance": ("距离", "Distance"),
    "score": ("匹配度", "Match"),
    "invite": ("邀请", "Invite"),
    "invited": ("已邀请", "Invited"),
    "roster": ("名单", "Roster"),
    "no_roster": ("还没有人报名", "Nobody has signed up yet"),
    "volunteer": ("志愿者", "Volunteer"),
    "show_code": ("现场签到码", "Check-in code for the post"),
    "code_note": ("每十分钟更换一次", "It changes every ten minutes"),
    "approve_hours": ("核准时长", "Approve hours"),
    "campaign": ("整体排班", "Plan the whole campaign"),
    "run_plan": ("生成排班方案", "Make a plan"),
    "accept_plan": ("确认方案并发出邀请", "Accept the plan and send the invitations"),
    "fill_rate": ("满员率", "Fill rate"),
    "total_score": ("总匹配度", "Total match"),
    "optimal": ("已证明最优", "Proven optimal"),
    "unfilled": ("未满岗位", "Places left empty"),
    "reason": ("原因", "Reason"),
    "yes": ("是", "yes"),
    "no": ("否", "no"),
    # analysts
    "analytics": ("供需分析", "Demand and supply"),
    "gap_map": ("缺口地图", "Gap map"),
    "skill_filter": ("技能", "Skill"),
    "unknown_skill": ("技能库中没有这个技能", "No such skill in the taxonomy"),
    "gap_table": ("缺口明细", "Gaps"),
    "from": ("从", "From"),
    "to": ("到", "To"),
    "group_by": ("分组", "Group by"),
    "apply": ("筛选", "Apply"),
    "all": ("全部", "All"),
    "weekday": ("星期", "Weekday"),
    "demand_h": ("需求（小时）", "Asked (h)"),
    "supply_h": ("可供（小时）", "Free (h)"),
    "gap_h": ("缺口（小时）", "Gap (h)"),
    "suggestions": ("新项目建议", "Ideas for new projects"),
    "models": ("排序模型评估", "Ranking models"),
    "version": ("版本", "Version"),
    "active": ("使用中", "active"),
    "no_models": ("还没有训练过模型", "No model trained yet"),
    "legend_gap": (
        "红色：需求时长多于志愿者空闲时长（越深缺口越大）；绿色：空闲多于需求",
        "Red: more hours asked than volunteers are free (darker: a larger gap); green: more free than asked",
    ),
    "suppressed": ("人数少于5人的区域不显示", "Areas with fewer than 5 volunteers are not shown"),
    # errors
    "failed": ("未能完成", "Not done"),
    "error": ("出错了", "Something went wrong"),
    "not_found": ("找不到该页面", "There is no such page"),
    "forbidden": ("您无权查看此页面", "You may not see this page"),
    "expired_form": ("表单已过期，请重试", "The form expired: please try again"),
    "done": ("已完成", "Done"),
}


def translate(key: str, lang: str) -> str:
    zh, en = MESSAGES[key]
    return zh if lang == "zh" else en


def pick_language(cookie: str | None, accept_language: str | None) -> str:
    """The caller's language: their choice (a cookie set when they switch), else the browser's
    first preference between Chinese and English, else Chinese."""
    if cookie in LANGUAGES:
        return str(cookie)
    for part in (accept_language or "").split(","):
        tag = part.split(";")[0].strip().lower()
        if tag.startswith("zh"):
            return "zh"
        if tag.startswith("en"):
            return "en"
    return "zh"
