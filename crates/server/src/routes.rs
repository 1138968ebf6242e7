//! Every route the server answers, with who may call it, in one table. The router is built
//! from this table only, so a route cannot exist without an access rule, and the role ×
//! route test walks the same table.

use crate::access::Access::{self, Needs, Public};
use crate::api::{
    alarms, alertmanager, checks, cmdb, configs, desk, events, incidents, maintenance, major, problems, suppliers,
};
use crate::state::AppState;
use crate::{api, assets, console, health, metrics};
use axum::handler::Handler;
use axum::http::Method;
use axum::routing::{MethodFilter, MethodRouter};
use model::Perm::*;

/// The HTTP methods routes use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verb {
    Get,
    Post,
    Put,
    Patch,
    Delete,
}

impl Verb {
    pub fn method(self) -> Method {
        match self {
            Verb::Get => Method::GET,
            Verb::Post => Method::POST,
            Verb::Put => Method::PUT,
            Verb::Patch => Method::PATCH,
            Verb::Delete => Method::DELETE,
        }
    }

    fn filter(self) -> MethodFilter {
        match self {
            Verb::Get => MethodFilter::GET,
            Verb::Post => MethodFilter::POST,
            Verb::Put => MethodFilter::PUT,
            Verb::Patch => MethodFilter::PATCH,
            Verb::Delete => MethodFilter::DELETE,
        }
    }
}

pub struct Route {
    pub verb: Verb,
    /// axum path template (`/api/v1/users/{username}`).
    pub path: &'static str,
    pub access: Access,
    pub handler: MethodRouter<AppState>,
}

fn r<H, T>(verb: Verb, path: &'static str, access: Access, h: H) -> Route
where
    H: Handler<T, AppState>,
    T: 'static,
{
    Route { verb, path, access, handler: axum::routing::on(verb.filter(), h) }
}

/// A route that takes a device configuration: larger bodies than the rest of the API (the
/// JSON form escapes the text, so twice the archive's limit).
fn takes_config(mut route: Route) -> Route {
    route.handler = route.handler.layer(axum::extract::DefaultBodyLimit::max(2 * app::configs::MAX_CONFIG_BYTES));
    route
}

/// Routes that take a file: an attachment up to its limit (with room for a form's framing).
fn takes_file(mut route: Route) -> Route {
    route.handler = route.handler.layer(axum::extract::DefaultBodyLimit::max(model::attachment::MAX_BYTES + 64 * 1024));
    route
}

/// The table.
pub fn table() -> Vec<Route> {
    use Verb::*;
    vec![
        // Open to all.
        r(Get, "/healthz", Public, health::healthz),
        r(Get, "/readyz", Public, health::readyz),
        r(Get, "/login", Public, console::login_page),
        r(Post, "/login", Public, console::login_submit),
        r(Get, "/assets/{file}", Public, assets::serve),
        r(Get, "/api/openapi.json", Public, console::openapi_json),
        r(Get, "/api", Public, console::api_page),
        // Console.
        r(Post, "/logout", Needs(ConsoleView), console::logout),
        r(Get, "/", Needs(ConsoleView), console::dashboard),
        r(Get, "/cmdb", Needs(CmdbRead), console::items_page),
        r(Get, "/cmdb/items/{id}", Needs(CmdbRead), console::item_page),
        r(Get, "/cmdb/risk", Needs(CmdbRead), console::risk_page),
        r(Get, "/incidents", Needs(IncidentRead), console::incidents_page),
        r(Post, "/incidents", Needs(IncidentWork), console::incidents_open),
        r(Post, "/incidents/bulk", Needs(IncidentWork), console::incidents_bulk),
        r(Post, "/incidents/filters", Needs(OwnViews), console::filter_save),
        r(Post, "/incidents/filters/{id}/delete", Needs(OwnViews), console::filter_delete),
        r(Get, "/incidents/{number}", Needs(IncidentRead), console::incident_page),
        r(Post, "/incidents/{number}/state", Needs(IncidentWork), console::incident_move),
        r(Post, "/incidents/{number}/notes", Needs(IncidentWork), console::incident_note),
        r(Post, "/incidents/{number}/assignment", Needs(IncidentWork), console::incident_assign),
        r(Post, "/incidents/{number}/priority", Needs(IncidentWork), console::incident_priority),
        r(Get, "/oncall", Needs(IncidentRead), console::oncall_page),
        r(Get, "/monitoring", Needs(EventRead), console::monitoring_page),
        r(Get, "/events", Needs(EventRead), console::events_page),
        r(Post, "/events/action", Needs(EventRead), console::events_action),
        r(Post, "/monitoring/alarms/{id}/ack", Needs(EventWork), console::monitoring_ack),
        r(Get, "/problems", Needs(IncidentRead), console::problems_page),
        r(Post, "/problems", Needs(IncidentWork), console::problems_raise),
        r(Get, "/problems/{number}", Needs(IncidentRead), console::problem_page),
        r(Post, "/problems/{number}", Needs(IncidentWork), console::problem_work),
        r(Post, "/problems/{number}/actions", Needs(IncidentWork), console::problem_action),
        r(Post, "/problems/{number}/actions/{id}/done", Needs(IncidentWork), console::problem_action_done),
        r(Get, "/status", Needs(IncidentRead), console::status_page),
        r(Post, "/incidents/{number}/major", Needs(IncidentWork), console::major_declare),
        r(Post, "/incidents/{number}/updates", Needs(IncidentWork), console::major_update),
        r(Get, "/incidents/{number}/review", Needs(IncidentRead), console::review_page),
        r(Post, "/incidents/{number}/review", Needs(IncidentWork), console::review_save),
        r(Post, "/oncall/overrides", Needs(IncidentWork), console::oncall_override),
        r(Post, "/oncall/apply", Needs(SystemAdmin), console::oncall_apply),
        r(Post, "/incidents/{number}/acknowledge", Needs(IncidentWork), console::incident_acknowledge),
        r(Post, "/incidents/{number}/parent", Needs(IncidentWork), console::incident_parent),
        r(Post, "/incidents/{number}/verification", Needs(IncidentWork), console::incident_verify),
        takes_file(r(Post, "/incidents/{number}/attachments", Needs(IncidentWork), console::incident_attach)),
        r(Get, "/incidents/{number}/attachments/{id}", Needs(IncidentRead), console::incident_download),
        r(Get, "/configs", Needs(ConfigRead), console::configs_page),
        r(Get, "/cmdb/items/{id}/config", Needs(ConfigRead), console::item_config_page),
        r(Post, "/cmdb/items/{id}/config", Needs(CmdbWrite), console::item_config_store),
        r(Get, "/cmdb/items/{id}/config/diff", Needs(ConfigRead), console::config_diff_page),
        r(Get, "/cmdb/services", Needs(CmdbRead), console::services_page),
        r(Get, "/cmdb/services/{id}", Needs(CmdbRead), console::service_map_page),
        r(Get, "/cmdb/vendors", Needs(CmdbRead), console::vendors_page),
        r(Get, "/cmdb/vendors/{slug}", Needs(CmdbRead), console::vendor_page),
        r(Get, "/tokens", Needs(OwnTokens), console::tokens_page),
        r(Post, "/tokens", Needs(OwnTokens), console::tokens_create),
        r(Post, "/tokens/{id}/revoke", Needs(OwnTokens), console::tokens_revoke),
        r(Get, "/admin/users", Needs(UserAdmin), console::users_page),
        r(Post, "/admin/users", Needs(UserAdmin), console::users_create),
        r(Post, "/admin/users/{username}/disable", Needs(UserAdmin), console::users_disable),
        r(Post, "/admin/users/{username}/enable", Needs(UserAdmin), console::users_enable),
        r(Get, "/admin/tokens", Needs(TokenAdmin), console::all_tokens_page),
        r(Get, "/audit", Needs(AuditRead), console::audit_page),
        r(Get, "/audit/export", Needs(AuditRead), console::audit_export),
        // Machine interfaces.
        r(Get, "/metrics", Needs(MetricsRead), metrics::render),
        r(Get, "/api/v1/events", Needs(EventRead), events::list),
        r(Get, "/api/v1/events/stream", Needs(EventRead), events::stream),
        r(Post, "/api/v1/events/acknowledge", Needs(EventWork), events::acknowledge),
        r(Post, "/api/v1/events/silence", Needs(EventWork), events::silence),
        r(Post, "/api/v1/events/incident", Needs(IncidentWork), events::incident),
        r(Get, "/api/v1/alarms", Needs(EventRead), alarms::list),
        r(Get, "/api/v1/alarms/{id}", Needs(EventRead), alarms::get),
        r(Post, "/api/v1/alarms/{id}/ack", Needs(EventWork), alarms::acknowledge),
        r(Get, "/api/v1/checks", Needs(EventRead), checks::list),
        r(Post, "/api/v1/checks", Needs(CmdbWrite), checks::create),
        r(Get, "/api/v1/checks/board", Needs(EventRead), checks::board),
        r(Delete, "/api/v1/checks/{id}", Needs(CmdbWrite), checks::delete),
        r(Get, "/api/v1/checks/{id}/samples", Needs(EventRead), checks::samples),
        r(Get, "/api/v1/maintenance", Needs(EventRead), maintenance::list),
        r(Post, "/api/v1/maintenance", Needs(EventWork), maintenance::create),
        r(Delete, "/api/v1/maintenance/{id}", Needs(EventWork), maintenance::delete),
        // Alertmanager's API v2: Prometheus, amtool and forwarding Alertmanagers.
        r(Get, "/api/v2/status", Needs(EventRead), alertmanager::status),
        r(Get, "/api/v2/receivers", Needs(EventRead), alertmanager::receivers),
        r(Get, "/api/v2/alerts", Needs(EventRead), alertmanager::get_alerts),
        r(Post, "/api/v2/alerts", Needs(EventSend), alertmanager::post_alerts),
        r(Get, "/api/v2/alerts/groups", Needs(EventRead), alertmanager::get_groups),
        r(Get, "/api/v2/silences", Needs(EventRead), alertmanager::get_silences),
        r(Post, "/api/v2/silences", Needs(EventSend), alertmanager::post_silence),
        r(Get, "/api/v2/silence/{id}", Needs(EventRead), alertmanager::get_silence),
        r(Delete, "/api/v2/silence/{id}", Needs(EventSend), alertmanager::delete_silence),
        r(Post, "/api/v2/webhook", Needs(EventSend), alertmanager::post_webhook),
        r(Get, "/api/v1/me", Needs(ConsoleView), api::me),
        r(Put, "/api/v1/me/password", Needs(ConsoleView), api::my_password),
        r(Get, "/api/v1/users", Needs(UserAdmin), api::list_users),
        r(Post, "/api/v1/users", Needs(UserAdmin), api::create_user),
        r(Get, "/api/v1/users/{username}", Needs(UserAdmin), api::get_user),
        r(Patch, "/api/v1/users/{username}", Needs(UserAdmin), api::update_user),
        r(Put, "/api/v1/users/{username}/password", Needs(UserAdmin), api::set_user_password),
        r(Get, "/api/v1/tokens", Needs(OwnTokens), api::list_tokens),
        r(Post, "/api/v1/tokens", Needs(OwnTokens), api::create_token),
        r(Delete, "/api/v1/tokens/{id}", Needs(OwnTokens), api::revoke_token),
        r(Get, "/api/v1/audit", Needs(AuditRead), api::list_audit),
        r(Get, "/api/v1/audit/export", Needs(AuditRead), api::export_audit),
        r(Get, "/api/v1/audit/verify", Needs(AuditRead), api::verify_audit),
        r(Get, "/api/v1/sites", Needs(CmdbRead), cmdb::list_sites),
        r(Get, "/api/v1/classes", Needs(CmdbRead), cmdb::list_classes),
        r(Get, "/api/v1/items", Needs(CmdbRead), cmdb::list_items),
        r(Post, "/api/v1/items", Needs(CmdbWrite), cmdb::create_item),
        r(Get, "/api/v1/items/{id}", Needs(CmdbRead), cmdb::get_item),
        r(Put, "/api/v1/items/{id}", Needs(CmdbWrite), cmdb::replace_item),
        r(Delete, "/api/v1/items/{id}", Needs(CmdbWrite), cmdb::delete_item),
        r(Get, "/api/v1/items/{id}/history", Needs(CmdbRead), cmdb::item_history),
        r(Get, "/api/v1/items/{id}/relationships", Needs(CmdbRead), cmdb::item_relationships),
        r(Get, "/api/v1/items/{id}/relationship-history", Needs(CmdbRead), cmdb::item_relationship_history),
        r(Get, "/api/v1/items/{id}/dependencies", Needs(CmdbRead), cmdb::item_dependencies),
        r(Post, "/api/v1/relationships", Needs(CmdbWrite), cmdb::create_relationship),
        r(Delete, "/api/v1/relationships/{id}", Needs(CmdbWrite), cmdb::delete_relationship),
        r(Get, "/api/v1/groups", Needs(CmdbRead), cmdb::list_groups),
        r(Post, "/api/v1/groups", Needs(CmdbWrite), cmdb::create_group),
        r(Get, "/api/v1/impact", Needs(CmdbRead), cmdb::impact),
        r(Get, "/api/v1/risk", Needs(CmdbRead), cmdb::risk),
        r(Get, "/api/v1/services", Needs(CmdbRead), cmdb::list_services),
        r(Get, "/api/v1/attribute-definitions", Needs(CmdbRead), cmdb::list_attribute_defs),
        r(Post, "/api/v1/attribute-definitions", Needs(SystemAdmin), cmdb::create_attribute_def),
        r(Put, "/api/v1/attribute-definitions/{id}", Needs(SystemAdmin), cmdb::replace_attribute_def),
        r(Delete, "/api/v1/attribute-definitions/{id}", Needs(SystemAdmin), cmdb::delete_attribute_def),
        r(Get, "/api/v1/services/{id}/map", Needs(CmdbRead), cmdb::service_map),
        r(Get, "/api/v1/incidents", Needs(IncidentRead), incidents::list),
        r(Post, "/api/v1/incidents", Needs(IncidentWork), incidents::open),
        r(Get, "/api/v1/incidents/recurring", Needs(IncidentRead), incidents::recurring),
        r(Post, "/api/v1/incidents/bulk", Needs(IncidentWork), incidents::bulk),
        r(Get, "/api/v1/saved-filters", Needs(IncidentRead), incidents::saved_filters),
        r(Post, "/api/v1/saved-filters", Needs(OwnViews), incidents::save_filter),
        r(Delete, "/api/v1/saved-filters/{id}", Needs(OwnViews), incidents::delete_filter),
        r(Get, "/api/v1/incidents/{number}", Needs(IncidentRead), incidents::get),
        r(Get, "/api/v1/incidents/{number}/events", Needs(IncidentRead), incidents::events),
        r(Post, "/api/v1/incidents/{number}/state", Needs(IncidentWork), incidents::move_state),
        r(Post, "/api/v1/incidents/{number}/notes", Needs(IncidentWork), incidents::note),
        r(Post, "/api/v1/incidents/{number}/assignment", Needs(IncidentWork), incidents::assign),
        r(Post, "/api/v1/incidents/{number}/priority", Needs(IncidentWork), incidents::reprioritise),
        r(Get, "/api/v1/incidents/{number}/known-errors", Needs(IncidentRead), problems::known_errors),
        r(Post, "/api/v1/incidents/{number}/parent", Needs(IncidentWork), incidents::set_parent),
        r(Get, "/api/v1/incidents/{number}/major", Needs(IncidentRead), major::get),
        r(Post, "/api/v1/incidents/{number}/major", Needs(IncidentWork), major::declare),
        r(Post, "/api/v1/incidents/{number}/updates", Needs(IncidentWork), major::post_update),
        r(Get, "/api/v1/incidents/{number}/review", Needs(IncidentRead), major::review),
        r(Put, "/api/v1/incidents/{number}/review", Needs(IncidentWork), major::put_review),
        r(Get, "/api/v1/status", Needs(IncidentRead), major::status),
        r(Get, "/api/v1/kpis", Needs(IncidentRead), incidents::kpis),
        r(Post, "/api/v1/incidents/{number}/verification", Needs(IncidentWork), incidents::verify),
        r(Get, "/api/v1/incidents/{number}/attachments", Needs(IncidentRead), incidents::attachments),
        takes_file(r(Post, "/api/v1/incidents/{number}/attachments", Needs(IncidentWork), incidents::attach)),
        r(Get, "/api/v1/incidents/{number}/attachments/{id}", Needs(IncidentRead), incidents::download),
        r(Get, "/api/v1/problems", Needs(IncidentRead), problems::list),
        r(Post, "/api/v1/problems", Needs(IncidentWork), problems::raise),
        r(Get, "/api/v1/problems/{number}", Needs(IncidentRead), problems::get),
        r(Post, "/api/v1/problems/{number}", Needs(IncidentWork), problems::work),
        r(Post, "/api/v1/problems/{number}/actions", Needs(IncidentWork), problems::add_action),
        r(Post, "/api/v1/problems/{number}/actions/{id}/done", Needs(IncidentWork), problems::complete_action),
        r(Get, "/api/v1/calendars", Needs(IncidentRead), incidents::calendars),
        r(Get, "/api/v1/priority-matrix", Needs(IncidentRead), incidents::priority_matrix),
        r(Put, "/api/v1/priority-matrix", Needs(SystemAdmin), incidents::put_priority_matrix),
        r(Put, "/api/v1/calendars/{name}", Needs(SystemAdmin), incidents::put_calendar),
        r(Get, "/api/v1/sla-policies", Needs(IncidentRead), incidents::sla_policies),
        r(Put, "/api/v1/sla-policies/{name}", Needs(SystemAdmin), incidents::put_sla_policy),
        r(Delete, "/api/v1/sla-policies/{name}", Needs(SystemAdmin), incidents::delete_sla_policy),
        r(Get, "/api/v1/notification-channels", Needs(IncidentRead), desk::channels),
        r(Put, "/api/v1/notification-channels/{name}", Needs(SystemAdmin), desk::put_channel),
        r(Delete, "/api/v1/notification-channels/{name}", Needs(SystemAdmin), desk::delete_channel),
        r(Post, "/api/v1/notification-channels/{name}/test", Needs(SystemAdmin), desk::test_channel),
        r(Get, "/api/v1/notifications", Needs(IncidentRead), desk::notifications),
        r(Get, "/api/v1/escalation-rules", Needs(IncidentRead), desk::rules),
        r(Put, "/api/v1/escalation-rules/{name}", Needs(SystemAdmin), desk::put_rule),
        r(Delete, "/api/v1/escalation-rules/{name}", Needs(SystemAdmin), desk::delete_rule),
        r(Get, "/api/v1/oncall-schedules", Needs(IncidentRead), desk::schedules),
        r(Put, "/api/v1/oncall-schedules/{name}", Needs(SystemAdmin), desk::put_schedule),
        r(Delete, "/api/v1/oncall-schedules/{name}", Needs(SystemAdmin), desk::delete_schedule),
        r(Post, "/api/v1/oncall-schedules/{name}/overrides", Needs(IncidentWork), desk::add_override),
        r(Get, "/api/v1/oncall-schedules/{name}/shifts", Needs(IncidentRead), desk::shifts),
        r(Get, "/api/v1/escalation-chains", Needs(IncidentRead), desk::chains),
        r(Put, "/api/v1/escalation-chains/{name}", Needs(SystemAdmin), desk::put_chain),
        r(Delete, "/api/v1/escalation-chains/{name}", Needs(SystemAdmin), desk::delete_chain),
        r(Put, "/api/v1/users/{username}/contact", Needs(IncidentWork), desk::put_contact),
        r(Get, "/api/v1/users/{username}/groups", Needs(UserAdmin), desk::groups),
        r(Put, "/api/v1/users/{username}/groups", Needs(UserAdmin), desk::put_groups),
        r(Get, "/api/v1/incidents/{number}/pages", Needs(IncidentRead), desk::pages),
        r(Post, "/api/v1/incidents/{number}/acknowledge", Needs(IncidentWork), desk::acknowledge),
        r(Get, "/api/v1/configs", Needs(ConfigRead), configs::overview),
        r(Get, "/api/v1/items/{id}/configs", Needs(ConfigRead), configs::versions),
        takes_config(r(Post, "/api/v1/items/{id}/configs", Needs(CmdbWrite), configs::store)),
        takes_config(r(Post, "/api/v1/items/{id}/configs/review", Needs(ConfigRead), configs::review)),
        r(Get, "/api/v1/items/{id}/configs/{version}", Needs(ConfigRead), configs::get),
        r(Get, "/api/v1/items/{id}/configs/{version}/diff", Needs(ConfigRead), configs::diff),
        r(Get, "/api/v1/items/{id}/configs/{version}/findings", Needs(ConfigRead), configs::findings),
        r(Get, "/api/v1/items/{id}/configs/{version}/match", Needs(ConfigRead), configs::flow_match),
        r(Get, "/api/v1/vendors", Needs(CmdbRead), suppliers::list_vendors),
        r(Post, "/api/v1/vendors", Needs(CmdbWrite), suppliers::create_vendor),
        r(Get, "/api/v1/vendors/{slug}", Needs(CmdbRead), suppliers::get_vendor),
        r(Put, "/api/v1/vendors/{slug}", Needs(CmdbWrite), suppliers::replace_vendor),
        r(Delete, "/api/v1/vendors/{slug}", Needs(CmdbWrite), suppliers::delete_vendor),
        r(Get, "/api/v1/contracts", Needs(CmdbRead), suppliers::list_contracts),
        r(Post, "/api/v1/contracts", Needs(CmdbWrite), suppliers::create_contract),
        r(Get, "/api/v1/contracts/{id}", Needs(CmdbRead), suppliers::get_contract),
        r(Put, "/api/v1/contracts/{id}", Needs(CmdbWrite), suppliers::replace_contract),
        r(Delete, "/api/v1/contracts/{id}", Needs(CmdbWrite), suppliers::delete_contract),
        r(Get, "/api/v1/firmware-baselines", Needs(CmdbRead), suppliers::list_baselines),
        r(Post, "/api/v1/firmware-baselines", Needs(CmdbWrite), suppliers::create_baseline),
        r(Put, "/api/v1/firmware-baselines/{id}", Needs(CmdbWrite), suppliers::replace_baseline),
        r(Delete, "/api/v1/firmware-baselines/{id}", Needs(CmdbWrite), suppliers::delete_baseline),
    ]
}
