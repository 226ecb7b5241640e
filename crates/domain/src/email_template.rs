//! Email templates: the kinds of message Vouch sends, their shipped defaults, and rendering.
//! HTML parts are auto-escaped; subject and text are not (they are not HTML). An unknown
//! variable is an error, reported with its line, so a typo is caught when a template is saved
//! rather than sent.

use minijinja::{AutoEscape, Environment, UndefinedBehavior};
use serde::{Deserialize, Serialize};

/// The messages Vouch sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// To owners and admins: a webhook endpoint was disabled.
    WebhookEndpointDisabled,
    /// To a participant who joined a program: their link and how the program works.
    ParticipantWelcome,
    /// To a referrer whose friend's referral was won.
    ReferralWon,
    /// To a participant who earned a reward (after any hold period).
    RewardEarned,
    /// To a participant whose reward was delivered (with the coupon code, if any).
    RewardDelivered,
    /// To a participant who asked for a link to their referral page (single use, 30 minutes).
    ParticipantLogin,
    /// To a known person invited to join with one click (an instant signup link).
    InstantSignup,
    /// To a payee whose sales referral bonus a manager approved: the amount and when each
    /// payment falls due.
    BonusApproved,
    /// To a payee whose payment was marked paid, with its reference.
    PaymentPaid,
    /// To a partner company: we sent it a referral to follow up.
    PartnerReferralReceived,
    /// To a partner manager: one of their partners submitted a referral to us.
    PartnerReferralSubmitted,
    /// To someone invited to a partner's portal: a one-time link to set a password.
    PartnerInvite,
    /// To a partner user who asked: a one-time link to set a new password.
    PartnerPasswordReset,
    /// To a buyer's sale notification addresses: a lead or customer was sold to it (with its
    /// details when the buyer receives leads by email).
    LeadSold,
}

impl Kind {
    pub const ALL: [Kind; 14] = [
        Kind::WebhookEndpointDisabled,
        Kind::ParticipantWelcome,
        Kind::ReferralWon,
        Kind::RewardEarned,
        Kind::RewardDelivered,
        Kind::ParticipantLogin,
        Kind::InstantSignup,
        Kind::BonusApproved,
        Kind::PaymentPaid,
        Kind::PartnerReferralReceived,
        Kind::PartnerReferralSubmitted,
        Kind::PartnerInvite,
        Kind::PartnerPasswordReset,
        Kind::LeadSold,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::WebhookEndpointDisabled => "webhook_endpoint_disabled",
            Kind::ParticipantWelcome => "participant_welcome",
            Kind::ReferralWon => "referral_won",
            Kind::RewardEarned => "reward_earned",
            Kind::RewardDelivered => "reward_delivered",
            Kind::ParticipantLogin => "participant_login",
            Kind::InstantSignup => "instant_signup",
            Kind::BonusApproved => "bonus_approved",
            Kind::PaymentPaid => "payment_paid",
            Kind::PartnerReferralReceived => "partner_referral_received",
            Kind::PartnerReferralSubmitted => "partner_referral_submitted",
            Kind::PartnerInvite => "partner_invite",
            Kind::PartnerPasswordReset => "partner_password_reset",
            Kind::LeadSold => "lead_sold",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Kind::WebhookEndpointDisabled => "Webhook endpoint disabled (to owners and admins)",
            Kind::ParticipantWelcome => "Welcome (to a participant who joined)",
            Kind::ReferralWon => "Referral won (to the referrer)",
            Kind::RewardEarned => "Reward earned (to the participant)",
            Kind::RewardDelivered => "Reward delivered (to the participant)",
            Kind::ParticipantLogin => "Link to the referral page (to a participant who asked)",
            Kind::InstantSignup => "Instant signup invitation (one-click join)",
            Kind::BonusApproved => "Referral bonus approved (to the payee)",
            Kind::PaymentPaid => "Bonus payment paid (to the payee)",
            Kind::PartnerReferralReceived => "Referral sent to a partner (to the partner)",
            Kind::PartnerReferralSubmitted => {
                "Referral submitted by a partner (to its partner manager)"
            }
            Kind::PartnerInvite => "Partner portal invitation (to the invited user)",
            Kind::PartnerPasswordReset => "Partner portal password reset (to the user who asked)",
            Kind::LeadSold => "Lead or customer sold (to the buyer's notification addresses)",
        }
    }

    pub fn parse(s: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// Marketing email carries an unsubscribe link and is never sent to suppressed addresses;
    /// operational email to staff is not marketing.
    pub fn marketing(self) -> bool {
        match self {
            // What a company owes someone is not marketing: it is sent whatever their choice.
            Kind::WebhookEndpointDisabled
            | Kind::ParticipantLogin
            | Kind::BonusApproved
            | Kind::PaymentPaid
            | Kind::PartnerReferralReceived
            | Kind::PartnerReferralSubmitted
            | Kind::PartnerInvite
            | Kind::PartnerPasswordReset
            | Kind::LeadSold => false,
            Kind::ParticipantWelcome
            | Kind::ReferralWon
            | Kind::RewardEarned
            | Kind::RewardDelivered
            | Kind::InstantSignup => true,
        }
    }

    /// Participant-facing kinds can be overridden per program; staff notices only for the
    /// whole installation.
    pub fn per_program(self) -> bool {
        !matches!(
            self,
            Kind::WebhookEndpointDisabled
                | Kind::PartnerReferralReceived
                | Kind::PartnerReferralSubmitted
                | Kind::PartnerInvite
                | Kind::PartnerPasswordReset
                | Kind::LeadSold
        )
    }

    pub fn default_template(self) -> Template {
        match self {
            Kind::WebhookEndpointDisabled => Template {
                subject: "Webhook endpoint disabled: {{ endpoint.url }}".into(),
                text: "Hello,\n\nVouch stopped sending webhooks to {{ endpoint.url }} because {{ reason }}.\n\nFix the receiver, re-enable the endpoint and replay what it missed:\n{{ console_url }}\n\n— Vouch\n".into(),
                html: "<p>Hello,</p>\n<p>Vouch stopped sending webhooks to <code>{{ endpoint.url }}</code> because {{ reason }}.</p>\n<p>Fix the receiver, re-enable the endpoint and replay what it missed: <a href=\"{{ console_url }}\">open the endpoint</a>.</p>\n<p>— Vouch</p>\n".into(),
            },
            Kind::ParticipantWelcome => Template {
                subject: "You're in: your {{ program.name }} referral link".into(),
                text: "Hi {{ participant.first_name or \"there\" }},\n\nThanks for joining {{ program.name }}. Share your personal link and every friend who joins through it counts for you:\n\n{{ referral_link }}\n\nYour referral code is {{ participant.code }}.\n{% if program.offer %}\n{{ program.offer }}\n{% endif %}".into(),
                html: "<p>Hi {{ participant.first_name or \"there\" }},</p>\n<p>Thanks for joining {{ program.name }}. Share your personal link and every friend who joins through it counts for you:</p>\n<p><a href=\"{{ referral_link }}\">{{ referral_link }}</a></p>\n<p>Your referral code is <strong>{{ participant.code }}</strong>.</p>\n{% if program.offer %}<p><strong>{{ program.offer }}</strong></p>\n{% endif %}".into(),
            },
            Kind::ReferralWon => Template {
                subject: "{{ friend.first_name or \"A friend\" }} joined {{ program.name }} through you".into(),
                text: "Hi {{ participant.first_name or \"there\" }},\n\n{{ friend.first_name or \"A friend\" }} joined {{ program.name }} through your link. That makes {{ won_count }} successful referral{% if won_count != 1 %}s{% endif %}.\n\nKeep sharing: {{ referral_link }}\n".into(),
                html: "<p>Hi {{ participant.first_name or \"there\" }},</p>\n<p>{{ friend.first_name or \"A friend\" }} joined {{ program.name }} through your link. That makes <strong>{{ won_count }}</strong> successful referral{% if won_count != 1 %}s{% endif %}.</p>\n<p>Keep sharing: <a href=\"{{ referral_link }}\">{{ referral_link }}</a></p>\n".into(),
            },
            Kind::RewardEarned => Template {
                subject: "You earned a reward from {{ program.name }}".into(),
                text: "Hi {{ participant.first_name or \"there\" }},\n\nYou earned {{ reward.title }}{% if reward.hold_days %} after the program's {{ reward.hold_days }}-day hold{% endif %}. Thank you for spreading the word!\n\nKeep sharing: {{ referral_link }}\n".into(),
                html: "<p>Hi {{ participant.first_name or \"there\" }},</p>\n<p>You earned <strong>{{ reward.title }}</strong>{% if reward.hold_days %} after the program's {{ reward.hold_days }}-day hold{% endif %}. Thank you for spreading the word!</p>\n<p>Keep sharing: <a href=\"{{ referral_link }}\">{{ referral_link }}</a></p>\n".into(),
            },
            Kind::InstantSignup => Template {
                subject: "Join {{ program.name }} with one click".into(),
                text: "Hi {{ first_name or \"there\" }},\n\nYou're invited to {{ program.name }}. Join with one click and get your personal referral link:\n\n{{ join_url }}\n".into(),
                html: "<p>Hi {{ first_name or \"there\" }},</p>\n<p>You're invited to {{ program.name }}. <a href=\"{{ join_url }}\">Join with one click</a> and get your personal referral link.</p>\n".into(),
            },
            Kind::ParticipantLogin => Template {
                subject: "Your {{ program.name }} referral page".into(),
                text: "Hi {{ participant.first_name or \"there\" }},\n\nOpen your referral page (the link works once, for 30 minutes):\n\n{{ login_url }}\n\nIf you did not ask for it, ignore this email.\n".into(),
                html: "<p>Hi {{ participant.first_name or \"there\" }},</p>\n<p><a href=\"{{ login_url }}\">Open your referral page</a> (the link works once, for 30 minutes).</p>\n<p>If you did not ask for it, ignore this email.</p>\n".into(),
            },
            Kind::BonusApproved => Template {
                subject: "Your {{ bonus.kind }} bonus of {{ bonus.amount }} was approved".into(),
                text: "Hi {{ payee.name }},\n\nYour {{ bonus.kind }} bonus of {{ bonus.amount }}{% if sale.description %} for {{ sale.description }}{% endif %} was approved. It is paid in {{ payments | length }} payment{% if payments | length != 1 %}s{% endif %}:\n{% for p in payments %}\n- {{ p.amount }}: {{ p.when }}{% endfor %}\n\nThank you for the referral.\n".into(),
                html: "<p>Hi {{ payee.name }},</p>\n<p>Your {{ bonus.kind }} bonus of <strong>{{ bonus.amount }}</strong>{% if sale.description %} for {{ sale.description }}{% endif %} was approved. It is paid in {{ payments | length }} payment{% if payments | length != 1 %}s{% endif %}:</p>\n<ul>{% for p in payments %}<li>{{ p.amount }}: {{ p.when }}</li>{% endfor %}</ul>\n<p>Thank you for the referral.</p>\n".into(),
            },
            Kind::PaymentPaid => Template {
                subject: "{{ payment.amount }} of your {% if bonus %}referral bonus{% else %}commission{% endif %} was paid".into(),
                text: "Hi {{ payee.name }},\n\n{{ payment.amount }} of your {% if bonus %}{{ bonus.kind }} bonus{% else %}partner commission{% endif %} was paid on {{ payment.paid_on }} ({{ payment.method }}, reference {{ payment.reference }}).\n".into(),
                html: "<p>Hi {{ payee.name }},</p>\n<p><strong>{{ payment.amount }}</strong> of your {% if bonus %}{{ bonus.kind }} bonus{% else %}partner commission{% endif %} was paid on {{ payment.paid_on }} ({{ payment.method }}, reference <code>{{ payment.reference }}</code>).</p>\n".into(),
            },
            Kind::PartnerReferralReceived => Template {
                subject: "New referral {{ referral.reference }}: {{ referral.client_name }}".into(),
                text: "Hello {{ partner.name }},\n\nWe sent you a referral to follow up: {{ referral.client_name }}{% if referral.company %} ({{ referral.company }}){% endif %}.\n{% if referral.email %}Email: {{ referral.email }}\n{% endif %}{% if referral.phone %}Phone: {{ referral.phone }}\n{% endif %}{% if referral.needs %}They need: {{ referral.needs }}\n{% endif %}{% if referral.notes %}\n{{ referral.notes }}\n{% endif %}\nYou are responsible for contacting the client, scoping the work and closing it. Keep its stage up to date so we can help when the client calls.\n".into(),
                html: "<p>Hello {{ partner.name }},</p>\n<p>We sent you a referral to follow up: <strong>{{ referral.client_name }}</strong>{% if referral.company %} ({{ referral.company }}){% endif %}.</p>\n<ul>{% if referral.email %}<li>Email: {{ referral.email }}</li>{% endif %}{% if referral.phone %}<li>Phone: {{ referral.phone }}</li>{% endif %}{% if referral.needs %}<li>They need: {{ referral.needs }}</li>{% endif %}</ul>\n{% if referral.notes %}<p>{{ referral.notes }}</p>\n{% endif %}<p>You are responsible for contacting the client, scoping the work and closing it. Keep its stage up to date so we can help when the client calls.</p>\n".into(),
            },
            Kind::PartnerReferralSubmitted => Template {
                subject: "{{ partner.name }} referred {{ referral.client_name }} ({{ referral.reference }})".into(),
                text: "Hello {{ manager.name }},\n\n{{ partner.name }} referred a client to us: {{ referral.client_name }}{% if referral.company %} ({{ referral.company }}){% endif %}, allocated to you.\n{% if referral.needs %}They need: {{ referral.needs }}\n{% endif %}{% if referral.duplicate %}\nIt may duplicate an earlier referral: decide in the console.\n{% endif %}\nContact the partner to discuss the client's requirements:\n{{ console_url }}\n".into(),
                html: "<p>Hello {{ manager.name }},</p>\n<p>{{ partner.name }} referred a client to us: <strong>{{ referral.client_name }}</strong>{% if referral.company %} ({{ referral.company }}){% endif %}, allocated to you.</p>\n{% if referral.needs %}<p>They need: {{ referral.needs }}</p>\n{% endif %}{% if referral.duplicate %}<p>It may duplicate an earlier referral: decide in the console.</p>\n{% endif %}<p>Contact the partner to discuss the client's requirements: <a href=\"{{ console_url }}\">open the referral</a>.</p>\n".into(),
            },
            Kind::PartnerInvite => Template {
                subject: "You're invited to the {{ partner.name }} partner portal".into(),
                text: "Hi {{ user.name }},\n\n{{ invited_by }} invited you to the partner portal of {{ partner.name }}, where you submit referrals and follow every referral between us.\n\nSet your password (the link works once, for {{ hours }} hours):\n{{ link }}\n\nIf you did not expect this, ignore this email.\n".into(),
                html: "<p>Hi {{ user.name }},</p>\n<p>{{ invited_by }} invited you to the partner portal of <strong>{{ partner.name }}</strong>, where you submit referrals and follow every referral between us.</p>\n<p><a href=\"{{ link }}\">Set your password</a> (the link works once, for {{ hours }} hours).</p>\n<p>If you did not expect this, ignore this email.</p>\n".into(),
            },
            Kind::PartnerPasswordReset => Template {
                subject: "Set a new password for the {{ partner.name }} partner portal".into(),
                text: "Hi {{ user.name }},\n\nSet a new password (the link works once, for {{ hours }} hours):\n{{ link }}\n\nIf you did not ask for it, ignore this email: your password stays as it is.\n".into(),
                html: "<p>Hi {{ user.name }},</p>\n<p><a href=\"{{ link }}\">Set a new password</a> (the link works once, for {{ hours }} hours).</p>\n<p>If you did not ask for it, ignore this email: your password stays as it is.</p>\n".into(),
            },
            Kind::LeadSold => Template {
                subject: "{{ sale.kind }} sold to {{ partner.name }}: {{ sale.name }}".into(),
                text: "Hello {{ partner.name }},\n\nWe sold you a {{ sale.kind | lower }} for {{ sale.price }} (sale {{ sale.id }}).\n{% if by_email %}\nName: {{ sale.name }}\n{% if sale.company %}Company: {{ sale.company }}\n{% endif %}{% if sale.email %}Email: {{ sale.email }}\n{% endif %}{% for p in sale.phones %}Phone: {{ p }}\n{% endfor %}{% if sale.address %}Address: {{ sale.address }}\n{% endif %}{% if sale.promo_code %}Promo code: {{ sale.promo_code }}\n{% endif %}{% for f in sale.custom_fields %}{{ f.name }}: {{ f.value }}\n{% endfor %}{% if sale.customer %}Monthly recurring revenue: {{ sale.customer.monthly_recurring_revenue }}\nActivation fee: {{ sale.customer.activation_fee }}\nContract term: {{ sale.customer.contract_term_months }} months\n{% endif %}{% else %}\nIt is posted to your system with the source id {{ partner.source_id }}; its sender_lead_id is {{ sale.id }}.\n{% endif %}\nIt appears on your monthly statement.\n".into(),
                html: "<p>Hello {{ partner.name }},</p>\n<p>We sold you a {{ sale.kind | lower }} for <strong>{{ sale.price }}</strong> (sale <code>{{ sale.id }}</code>).</p>\n{% if by_email %}<ul><li>Name: {{ sale.name }}</li>{% if sale.company %}<li>Company: {{ sale.company }}</li>{% endif %}{% if sale.email %}<li>Email: {{ sale.email }}</li>{% endif %}{% for p in sale.phones %}<li>Phone: {{ p }}</li>{% endfor %}{% if sale.address %}<li>Address: {{ sale.address }}</li>{% endif %}{% if sale.promo_code %}<li>Promo code: {{ sale.promo_code }}</li>{% endif %}{% for f in sale.custom_fields %}<li>{{ f.name }}: {{ f.value }}</li>{% endfor %}{% if sale.customer %}<li>Monthly recurring revenue: {{ sale.customer.monthly_recurring_revenue }}</li><li>Activation fee: {{ sale.customer.activation_fee }}</li><li>Contract term: {{ sale.customer.contract_term_months }} months</li>{% endif %}</ul>\n{% else %}<p>It is posted to your system with the source id <code>{{ partner.source_id }}</code>; its <code>sender_lead_id</code> is <code>{{ sale.id }}</code>.</p>\n{% endif %}<p>It appears on your monthly statement.</p>\n".into(),
            },
            Kind::RewardDelivered => Template {
                subject: "Your {{ program.name }} reward is here".into(),
                text: "Hi {{ participant.first_name or \"there\" }},\n\nYour reward, {{ reward.title }}, has been delivered.{% if reward.coupon_code %}\n\nYour code: {{ reward.coupon_code }}{% endif %}\n".into(),
                html: "<p>Hi {{ participant.first_name or \"there\" }},</p>\n<p>Your reward, <strong>{{ reward.title }}</strong>, has been delivered.</p>\n{% if reward.coupon_code %}<p>Your code: <strong>{{ reward.coupon_code }}</strong></p>\n{% endif %}".into(),
            },
        }
    }

    /// Variables the templates of this kind may use, with example values for previews.
    pub fn sample_context(self) -> serde_json::Value {
        match self {
            Kind::WebhookEndpointDisabled => serde_json::json!({
                "endpoint": { "id": "whe_01example", "url": "https://hooks.example.com/vouch", "description": "CRM sync" },
                "reason": "every delivery failed for 5 days",
                "console_url": "https://refer.example.com/admin/webhooks/whe_01example",
            }),
            Kind::ParticipantWelcome => serde_json::json!({
                "participant": { "id": "par_01example", "email": "ann@example.com", "first_name": "Ann", "last_name": "Lee", "code": "ANN7KQ3M" },
                "program": { "id": "prg_01example", "name": "Friends of Acme", "slug": "friends", "offer": "Give $10, get $10" },
                "referral_link": "https://refer.example.com/r/ANN7KQ3M",
                "unsubscribe_url": "https://refer.example.com/unsubscribe?token=example",
            }),
            Kind::ReferralWon => serde_json::json!({
                "participant": { "id": "par_01example", "email": "ann@example.com", "first_name": "Ann", "last_name": "Lee", "code": "ANN7KQ3M" },
                "friend": { "first_name": "Bo" },
                "program": { "id": "prg_01example", "name": "Friends of Acme", "slug": "friends" },
                "won_count": 3,
                "referral_link": "https://refer.example.com/r/ANN7KQ3M",
                "unsubscribe_url": "https://refer.example.com/unsubscribe?token=example",
            }),
            Kind::InstantSignup => serde_json::json!({
                "first_name": "Ann",
                "email": "ann@example.com",
                "program": { "id": "prg_01example", "name": "Friends of Acme", "slug": "friends" },
                "join_url": "https://refer.example.com/p/friends/instant?token=example",
                "unsubscribe_url": "https://refer.example.com/unsubscribe?token=example",
            }),
            Kind::ParticipantLogin => serde_json::json!({
                "participant": { "id": "par_01example", "email": "ann@example.com", "first_name": "Ann", "last_name": "Lee", "code": "ANN7KQ3M" },
                "program": { "id": "prg_01example", "name": "Friends of Acme", "slug": "friends" },
                "login_url": "https://refer.example.com/p/friends/me/login?token=example",
                "referral_link": "https://refer.example.com/r/ANN7KQ3M",
            }),
            Kind::BonusApproved => serde_json::json!({
                "payee": { "id": "per_01example", "name": "Erin Diaz", "email": "erin@example.com" },
                "bonus": { "id": "bon_01example", "kind": "Referral-Employee", "amount": "USD 1000.00" },
                "sale": { "id": "sal_01example", "description": "Roof and gutters" },
                "program": { "id": "prg_01example", "name": "1Stop referrals", "slug": "1stop" },
                "payments": [
                    { "amount": "USD 500.00", "when": "due 2026-03-02" },
                    { "amount": "USD 500.00", "when": "when the Install Date is known" },
                ],
            }),
            Kind::PaymentPaid => serde_json::json!({
                "payee": { "id": "per_01example", "name": "Erin Diaz", "email": "erin@example.com" },
                "bonus": { "id": "bon_01example", "kind": "Referral-Employee", "amount": "USD 1000.00" },
                "payment": { "id": "pay_01example", "amount": "USD 500.00", "paid_on": "2026-04-30", "reference": "PAYROLL-2026-04", "method": "Payroll" },
                "program": { "id": "prg_01example", "name": "1Stop referrals", "slug": "1stop" },
            }),
            Kind::PartnerReferralReceived | Kind::PartnerReferralSubmitted => serde_json::json!({
                "partner": { "id": "ptn_01example", "name": "Northwind Agency" },
                "manager": { "name": "Mia Partner", "email": "mia@vouch.example" },
                "referral": { "id": "prf_01example", "reference": "R-1001", "client_name": "Dana Home", "company": "Home Goods Ltd", "email": "dana@homegoods.example", "phone": "+1 555 0100", "needs": "Which subscription plan suits them; A joint demo with the client", "notes": "Moving from a hosted shop in spring.", "duplicate": false },
                "console_url": "https://refer.example.com/admin/partner-referrals/prf_01example",
            }),
            Kind::PartnerInvite | Kind::PartnerPasswordReset => serde_json::json!({
                "partner": { "id": "ptn_01example", "name": "Northwind Agency" },
                "user": { "id": "pus_01example", "name": "Nora West", "email": "nora@northwind.example" },
                "invited_by": "mia@vouch.example",
                "link": "https://refer.example.com/portal/welcome?token=example",
                "hours": 72,
            }),
            Kind::LeadSold => serde_json::json!({
                "partner": { "id": "ptn_01example", "name": "Harbor Security", "source_id": "4471" },
                "by_email": true,
                "sale": { "id": "lds_01example", "kind": "Customer", "name": "Dana Home", "company": "Home Goods Ltd", "email": "dana@homegoods.example", "phones": ["+1 555 0100"], "address": "1 Main St, Springfield, IL 62701, US", "promo_code": "SPRING", "custom_fields": [{ "name": "panel", "value": "touchscreen" }], "price": "USD 150.00", "customer": { "monthly_recurring_revenue": "USD 49.99", "activation_fee": "USD 99.00", "contract_term_months": 36 } },
            }),
            Kind::RewardEarned | Kind::RewardDelivered => serde_json::json!({
                "participant": { "id": "par_01example", "email": "ann@example.com", "first_name": "Ann", "last_name": "Lee", "code": "ANN7KQ3M" },
                "program": { "id": "prg_01example", "name": "Friends of Acme", "slug": "friends" },
                "reward": { "id": "rwd_01example", "title": "USD 25.00 (3 friends joined)", "kind": "cash", "amount": "USD 25.00", "description": "3 friends joined", "coupon_code": "SPRING-4KQ9", "hold_days": 14 },
                "referral_link": "https://refer.example.com/r/ANN7KQ3M",
                "unsubscribe_url": "https://refer.example.com/unsubscribe?token=example",
            }),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Template {
    pub subject: String,
    pub text: String,
    pub html: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rendered {
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// A template that cannot render: which part, where, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TemplateError {
    /// `subject`, `text` or `html`.
    pub part: &'static str,
    pub line: Option<usize>,
    pub message: String,
}

impl std::fmt::Display for TemplateError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.line {
            Some(line) => write!(f, "line {line}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

/// The work one rendering may do, in minijinja's fuel (about one unit per instruction, and
/// one per byte a string operation would allocate): the shipped templates use a few thousand,
/// so an override may be a hundred times as busy, never a loop over millions or a string
/// multiplied into megabytes.
pub const RENDER_FUEL: u64 = 500_000;

/// The largest rendered part; a message that grows past it is never stored or sent.
pub const MAX_RENDERED_BYTES: usize = 256 * 1024;

fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_fuel(Some(RENDER_FUEL));
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_auto_escape_callback(|name| {
        if name == "html" {
            AutoEscape::Html
        } else {
            AutoEscape::None
        }
    });
    env
}

fn render_part(
    env: &Environment<'_>,
    part: &'static str,
    source: &str,
    ctx: &serde_json::Value,
) -> Result<String, TemplateError> {
    let err = |e: minijinja::Error| TemplateError {
        part,
        line: e.line(),
        message: e.detail().unwrap_or(&e.kind().to_string()).to_string(),
    };
    let template = env.template_from_named_str(part, source).map_err(err)?;
    let out = template.render(minijinja::value::Serde(ctx)).map_err(|e| {
        if e.kind() == minijinja::ErrorKind::OutOfFuel {
            TemplateError {
                part,
                line: e.line(),
                message: "does too much work to render (a loop or a string that grows too large)"
                    .into(),
            }
        } else {
            err(e)
        }
    })?;
    if out.len() > MAX_RENDERED_BYTES {
        return Err(TemplateError {
            part,
            line: None,
            message: format!(
                "renders to {} KiB; at most {} KiB",
                out.len().div_ceil(1024),
                MAX_RENDERED_BYTES / 1024
            ),
        });
    }
    Ok(out)
}

/// Renders every part with `ctx`.
pub fn render(t: &Template, ctx: &serde_json::Value) -> Result<Rendered, TemplateError> {
    let env = environment();
    let mut subject = render_part(&env, "subject", &t.subject, ctx)?;
    // A line break the template itself does not hold came from a value (a program name typed
    // on two lines): fold it into a space rather than refuse the email. One the template holds
    // is the author's mistake, and is refused when the template is saved.
    if !t.subject.contains(['\r', '\n']) {
        subject = subject.split(['\r', '\n']).collect::<Vec<_>>().join(" ");
    }
    if subject.contains(['\r', '\n']) {
        return Err(TemplateError {
            part: "subject",
            line: None,
            message: "the subject must be one line".into(),
        });
    }
    Ok(Rendered {
        subject: subject.trim().to_string(),
        text: render_part(&env, "text", &t.text, ctx)?,
        html: render_part(&env, "html", &t.html, ctx)?,
    })
}

/// A program's look in its emails: a header with its logo (or its name) over a rule in its
/// accent colour. Applied around whatever the template renders, so an operator's override keeps
/// it without repeating it.
#[derive(Debug, Clone, Copy)]
pub struct Brand<'a> {
    pub name: &'a str,
    /// An `https` address (checked when the program is saved).
    pub logo_url: Option<&'a str>,
    /// `#RRGGBB` (checked when the program is saved; anything else is left out).
    pub color: Option<&'a str>,
}

fn escape_html(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#x27;")
}

/// Wraps the HTML part in the program's header; the text part is left as it is.
pub fn branded(mut r: Rendered, brand: &Brand<'_>) -> Rendered {
    let color = brand
        .color
        .filter(|c| {
            c.len() == 7 && c.starts_with('#') && c[1..].chars().all(|ch| ch.is_ascii_hexdigit())
        })
        .unwrap_or("#1F4FD8");
    let name = escape_html(brand.name);
    let header = match brand.logo_url.filter(|u| u.starts_with("https://")) {
        Some(url) => format!(
            "<img src=\"{}\" alt=\"{name}\" height=\"40\" style=\"height:40px;max-width:240px\">",
            escape_html(url)
        ),
        None => format!("<strong style=\"font-size:18px\">{name}</strong>"),
    };
    r.html = format!(
        "<div style=\"border-top:4px solid {color};padding-top:12px\">\n<p style=\"margin:0 0 16px\">{header}</p>\n{}\n</div>\n",
        r.html.trim_end()
    );
    r
}

/// Adds the unsubscribe link to a marketing message unless the template already shows it,
/// so an operator's override can never drop it.
pub fn with_unsubscribe(mut r: Rendered, url: &str) -> Rendered {
    if !r.text.contains(url) {
        r.text = format!("{}\n\n--\nUnsubscribe: {url}\n", r.text.trim_end());
    }
    let escaped = url.replace('&', "&amp;").replace('"', "&quot;");
    if !r.html.contains(&escaped) {
        r.html = format!(
            "{}\n<p style=\"font-size:12px;color:#666\"><a href=\"{escaped}\">Unsubscribe</a> from these emails.</p>\n",
            r.html.trim_end()
        );
    }
    r
}

/// Checks a template the operator wants to save against the kind's variables.
pub fn check(kind: Kind, t: &Template) -> Result<Rendered, TemplateError> {
    if t.subject.trim().is_empty() {
        return Err(TemplateError {
            part: "subject",
            line: None,
            message: "is required".into(),
        });
    }
    if t.text.trim().is_empty() {
        return Err(TemplateError {
            part: "text",
            line: None,
            message: "is required".into(),
        });
    }
    for (part, body, max) in [
        ("subject", &t.subject, 500),
        ("text", &t.text, 100_000),
        ("html", &t.html, 200_000),
    ] {
        if body.len() > max {
            return Err(TemplateError {
                part,
                line: None,
                message: format!("must be at most {max} bytes"),
            });
        }
    }
    render(t, &kind.sample_context())
}

/// Where the template in force comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TemplateSource {
    Default,
    Installation,
    Program,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_render_with_their_sample_context() {
        for kind in Kind::ALL {
            let r = check(kind, &kind.default_template()).expect("default renders");
            assert!(!r.subject.is_empty() && !r.text.is_empty() && !r.html.is_empty());
        }
    }

    #[test]
    fn templates_that_grow_or_loop_too_far_are_refused() {
        let kind = Kind::ParticipantWelcome;
        let with_text = |text: &str| Template {
            text: text.into(),
            ..kind.default_template()
        };
        for (text, says) in [
            ("{{ \"x\" * 100000000 }}", "too much work"),
            (
                "{% for i in range(100000) %}{% for j in range(100000) %}.{% endfor %}{% endfor %}",
                "too much work",
            ),
            (
                "{{ \"x\" * 300000 }}",
                "renders to 293 KiB; at most 256 KiB",
            ),
        ] {
            let err = check(kind, &with_text(text)).expect_err(text);
            assert!(err.message.contains(says), "{text}: {}", err.message);
            assert_eq!(err.part, "text");
        }
        assert!(check(kind, &with_text("{{ \"x\" * 1000 }}")).is_ok());
    }

    #[test]
    fn unsubscribe_link_is_added_once() {
        let kind = Kind::ParticipantWelcome;
        let ctx = kind.sample_context();
        let url = "https://x.test/unsubscribe?token=a&b";
        let r = with_unsubscribe(render(&kind.default_template(), &ctx).expect("render"), url);
        assert!(r.text.ends_with(&format!("Unsubscribe: {url}\n")));
        assert!(
            r.html
                .contains("href=\"https://x.test/unsubscribe?token=a&amp;b\"")
        );
        let again = with_unsubscribe(r.clone(), url);
        assert_eq!(again, r);
    }

    #[test]
    fn a_brand_heads_the_html_and_leaves_the_text_alone() {
        let r = Rendered {
            subject: "Hi".into(),
            text: "Hello".into(),
            html: "<p>Hello</p>".into(),
        };
        let with_logo = branded(
            r.clone(),
            &Brand {
                name: "Bo's <Shop>",
                logo_url: Some("https://shop.example.com/logo.png"),
                color: Some("#2F5BD3"),
            },
        );
        assert!(with_logo.html.contains("border-top:4px solid #2F5BD3"));
        assert!(with_logo.html.contains(
            "<img src=\"https://shop.example.com/logo.png\" alt=\"Bo&#x27;s &lt;Shop&gt;\""
        ));
        assert!(with_logo.html.contains("<p>Hello</p>"));
        assert_eq!(with_logo.text, "Hello");
        let plain = branded(
            r,
            &Brand {
                name: "Shop",
                logo_url: Some("javascript:alert(1)"),
                color: Some("red;background:url(x)"),
            },
        );
        assert!(
            plain
                .html
                .contains("<strong style=\"font-size:18px\">Shop</strong>")
        );
        assert!(!plain.html.contains("javascript") && !plain.html.contains("red;"));
    }

    #[test]
    fn html_is_escaped_and_text_is_not() {
        let t = Template {
            subject: "Hi {{ name }}".into(),
            text: "Hi {{ name }}".into(),
            html: "<p>Hi {{ name }}</p>".into(),
        };
        let r = render(&t, &serde_json::json!({ "name": "<b>Ann</b> & co" })).expect("render");
        assert_eq!(r.text, "Hi <b>Ann</b> & co");
        assert_eq!(r.html, "<p>Hi &lt;b&gt;Ann&lt;&#x2f;b&gt; &amp; co</p>");
    }

    #[test]
    fn a_line_break_in_a_value_is_folded_into_the_subject() {
        // Found by the contract run: a program named on two lines made every welcome email
        // (default template included) fail to render, so signups answered 500.
        let kind = Kind::ParticipantWelcome;
        let mut ctx = kind.sample_context();
        ctx["program"]["name"] = serde_json::json!("Summer\r\nReferrals");
        let r = render(&kind.default_template(), &ctx).expect("render");
        assert!(!r.subject.contains(['\r', '\n']), "{}", r.subject);
        assert!(r.subject.contains("Summer  Referrals"), "{}", r.subject);
    }

    #[test]
    fn errors_name_part_and_line() {
        let kind = Kind::WebhookEndpointDisabled;
        let mut t = kind.default_template();
        t.html = "<p>ok</p>\n<p>{{ endpont.url }}</p>".into();
        let e = check(kind, &t).expect_err("unknown variable");
        assert_eq!((e.part, e.line), ("html", Some(2)));
        t.html = "<p>{% if %}</p>".into();
        assert_eq!(check(kind, &t).expect_err("syntax").part, "html");
        let mut t = kind.default_template();
        t.subject = "a\n{{ reason }}".into();
        assert_eq!(check(kind, &t).expect_err("two lines").part, "subject");
    }
}
