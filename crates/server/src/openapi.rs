//! The OpenAPI 3 description, generated from the handlers' annotations, served at
//! `/api/openapi.json` and rendered as the browsable page at `/api`.

use crate::api;
use crate::api::{alarms, checks, cmdb, configs, desk, events, incidents, maintenance, major, problems, suppliers};
use crate::health;
use crate::problem::{Problem, ProblemField};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Watchkeeper API",
        description = "The network operations and security centre's REST API. Authenticate with \
            `Authorization: Bearer <token>` (create tokens in the console or with `watchkeeper token create`). \
            Errors are RFC 9457 problem+json. Lists take `limit`, `offset`, `sort` (`-field` for descending), \
            `q` and the filters each list names; unknown parameters are rejected."
    ),
    paths(
        health::healthz,
        health::readyz,
        api::me,
        api::my_password,
        api::list_users,
        api::create_user,
        api::get_user,
        api::update_user,
        api::set_user_password,
        api::list_tokens,
        api::create_token,
        api::revoke_token,
        api::list_audit,
        api::export_audit,
        api::verify_audit,
        cmdb::list_sites,
        cmdb::list_classes,
        cmdb::list_items,
        cmdb::create_item,
        cmdb::get_item,
        cmdb::replace_item,
        cmdb::delete_item,
        cmdb::item_history,
        cmdb::item_relationships,
        cmdb::item_relationship_history,
        cmdb::item_dependencies,
        cmdb::create_relationship,
        cmdb::delete_relationship,
        cmdb::list_groups,
        cmdb::create_group,
        cmdb::impact,
        cmdb::risk,
        cmdb::list_services,
        cmdb::list_attribute_defs,
        cmdb::create_attribute_def,
        cmdb::replace_attribute_def,
        cmdb::delete_attribute_def,
        cmdb::service_map,
        suppliers::list_vendors,
        suppliers::create_vendor,
        suppliers::get_vendor,
        suppliers::replace_vendor,
        suppliers::delete_vendor,
        suppliers::list_contracts,
        suppliers::create_contract,
        suppliers::get_contract,
        suppliers::replace_contract,
        suppliers::delete_contract,
        suppliers::list_baselines,
        suppliers::create_baseline,
        suppliers::replace_baseline,
        suppliers::delete_baseline,
        incidents::list,
        incidents::open,
        incidents::recurring,
        incidents::get,
        incidents::events,
        incidents::bulk,
        events::list,
        events::stream,
        events::acknowledge,
        events::silence,
        events::incident,
        alarms::list,
        alarms::get,
        alarms::acknowledge,
        checks::list,
        checks::create,
        checks::board,
        checks::delete,
        checks::samples,
        maintenance::list,
        maintenance::create,
        maintenance::delete,
        incidents::saved_filters,
        incidents::save_filter,
        incidents::delete_filter,
        incidents::move_state,
        incidents::note,
        incidents::assign,
        incidents::reprioritise,
        incidents::set_parent,
        major::declare,
        major::get,
        major::post_update,
        major::status,
        incidents::kpis,
        major::review,
        major::put_review,
        incidents::verify,
        incidents::attachments,
        incidents::attach,
        incidents::download,
        problems::known_errors,
        problems::list,
        problems::raise,
        problems::get,
        problems::work,
        problems::add_action,
        problems::complete_action,
        incidents::calendars,
        incidents::put_calendar,
        incidents::sla_policies,
        incidents::put_sla_policy,
        incidents::delete_sla_policy,
        desk::channels,
        desk::put_channel,
        desk::delete_channel,
        desk::test_channel,
        desk::notifications,
        desk::rules,
        desk::put_rule,
        desk::delete_rule,
        desk::schedules,
        desk::put_schedule,
        desk::delete_schedule,
        desk::add_override,
        desk::shifts,
        desk::chains,
        desk::put_chain,
        desk::delete_chain,
        desk::put_contact,
        desk::groups,
        desk::put_groups,
        desk::pages,
        desk::acknowledge,
        incidents::priority_matrix,
        incidents::put_priority_matrix,
        configs::overview,
        configs::versions,
        configs::store,
        configs::review,
        configs::get,
        configs::diff,
        configs::findings,
        configs::flow_match,
    ),
    components(schemas(Problem, ProblemField)),
    modifiers(&Security),
    security(("bearer" = []), ("session" = [])),
    tags(
        (name = "access", description = "Who you are, your password and API tokens"),
        (name = "users", description = "Account administration"),
        (name = "audit", description = "The tamper-evident audit log"),
        (name = "events", description = "What devices said: syslog messages, typed and tied to their item"),
        (name = "cmdb", description = "Sites, configuration items, relationships, redundancy groups and impact analysis"),
        (name = "incidents", description = "Incidents: priority from the impact × urgency matrix, ITIL states, SLA clocks and the journal"),
        (name = "desk", description = "Notification channels (e-mail, Teams, Mattermost, Slack), every notification with its delivery attempts, and escalation rules"),
        (name = "configs", description = "The configuration archive: device configurations per item, version by version, their diffs, findings and flow match"),
        (name = "vendors", description = "Vendors and carriers, support contracts, escalation ladders and firmware baselines"),
        (name = "health", description = "Liveness and readiness"),
    )
)]
pub struct ApiDoc;

struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme("bearer", SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)));
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                crate::access::SESSION_COOKIE,
                "Console session; state-changing requests also need the X-CSRF-Token header",
            ))),
        );
    }
}

pub fn document() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}
