//! What every herder shares (Connect's `AbstractHerder`): reads answered
//! from the backing stores, validation, secret masking, name checks, PATCH
//! merging, restart planning, and the plugin endpoints. A herder adds only
//! how it decides what runs where.

use std::sync::Arc;

use connect_api::{ConfigIssue, ConfigMap, SinkConnectorPlugin};
use tokio::sync::OnceCell;

use super::validation::{
    ConfigInfos, ConfigKeyInfo, HIDDEN, config_infos, converter_config_keys, mask,
    masked_secret_issues, plugin_config_keys, restore_secrets,
};
use super::*;
use crate::connector_config::{SinkConnectorConfig, check_connector_name, def_for};
use crate::converters::CONVERTERS;
use crate::sink_task::TaskTarget;
use crate::status::{State, StatusListener, TargetState};
use crate::storage::{ConfigBackingStore, ConnectorState, StatusBackingStore, StatusKey};
use crate::worker::Worker;
use crate::worker_config::WorkerConfig;

pub struct HerderCore {
    pub worker: Worker,
    /// Desired state: configs, target states, task configs.
    pub configs: Arc<dyn ConfigBackingStore>,
    /// Reported state of every connector and task.
    pub statuses: Arc<dyn StatusBackingStore>,
    /// How this worker's instances report into `statuses`.
    pub listener: StatusListener,
    commit: String,
    cluster_id: OnceCell<Option<String>>,
}

pub fn not_found(name: &str) -> HerderError {
    HerderError::NotFound(format!("Connector {name} not found"))
}

/// Which instances a restart request restarts (Connect's `RestartPlan`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestartPlan {
    pub connector: bool,
    pub tasks: Vec<u32>,
}

impl HerderCore {
    pub fn new(
        worker: Worker,
        configs: Arc<dyn ConfigBackingStore>,
        statuses: Arc<dyn StatusBackingStore>,
        commit: String,
    ) -> Self {
        let listener = StatusListener::new(statuses.clone(), &worker.config.worker_id);
        Self {
            worker,
            configs,
            statuses,
            listener,
            commit,
            cluster_id: OnceCell::new(),
        }
    }

    pub fn settings(&self) -> &WorkerConfig {
        &self.worker.config
    }

    pub async fn server_info(&self) -> ServerInfo {
        let bootstrap = self.worker.config.bootstrap_servers.clone();
        let cluster_id = self
            .cluster_id
            .get_or_init(|| async move {
                tokio::task::spawn_blocking(move || {
                    let consumer: rdkafka::consumer::BaseConsumer = rdkafka::ClientConfig::new()
                        .set("bootstrap.servers", &bootstrap)
                        .create()
                        .ok()?;
                    rdkafka::consumer::Consumer::client(&consumer)
                        .fetch_cluster_id(std::time::Duration::from_secs(5))
                })
                .await
                .ok()
                .flatten()
            })
            .await
            .clone();
        ServerInfo::new(self.commit.clone(), cluster_id)
    }

    // ---- reads, answered from the stores ----

    pub fn connectors(&self) -> Vec<String> {
        self.configs.snapshot().into_keys().collect()
    }

    pub fn state(&self, name: &str) -> HerderResult<ConnectorState> {
        self.configs.connector(name).ok_or_else(|| not_found(name))
    }

    pub fn info(&self, name: &str) -> HerderResult<ConnectorInfo> {
        let state = self.state(name)?;
        Ok(ConnectorInfo {
            name: name.to_string(),
            config: self.masked(&state.config),
            tasks: (0..state.tasks.len() as u32)
                .map(|task| ConnectorTaskId {
                    connector: name.to_string(),
                    task,
                })
                .collect(),
            kind: "sink",
        })
    }

    pub fn connector_config(&self, name: &str) -> HerderResult<ConfigMap> {
        Ok(self.masked(&self.state(name)?.config))
    }

    pub fn status(&self, name: &str) -> HerderResult<ConnectorStatus> {
        self.state(name)?;
        let connector = self
            .statuses
            .get(&StatusKey::Connector(name.to_string()))
            .unwrap_or_else(|| InstanceStatus {
                state: State::Unassigned,
                worker_id: self.worker.config.worker_id.clone(),
                trace: None,
            });
        let tasks = self
            .statuses
            .tasks(name)
            .into_iter()
            .map(|(id, status)| TaskStatus { id, status })
            .collect();
        Ok(ConnectorStatus {
            name: name.to_string(),
            connector,
            tasks,
            kind: "sink",
        })
    }

    pub fn task_infos(&self, name: &str) -> HerderResult<Vec<TaskInfo>> {
        Ok(self
            .state(name)?
            .tasks
            .iter()
            .enumerate()
            .map(|(i, config)| TaskInfo {
                id: ConnectorTaskId {
                    connector: name.to_string(),
                    task: i as u32,
                },
                config: self.masked(config),
            })
            .collect())
    }

    pub fn task_status(&self, name: &str, task: u32) -> HerderResult<TaskStatus> {
        self.statuses
            .get(&StatusKey::Task(name.to_string(), task))
            .map(|status| TaskStatus { id: task, status })
            .ok_or_else(|| HerderError::NotFound(format!("No status found for task {name}-{task}")))
    }

    // ---- validation and secrets ----

    /// Every problem of `config` (which names its `connector.class`), with
    /// the plugin it is for.
    pub fn config_issues(
        &self,
        config: &ConfigMap,
    ) -> HerderResult<(Arc<dyn SinkConnectorPlugin>, Vec<ConfigIssue>)> {
        let class = config.get("connector.class").ok_or_else(|| {
            HerderError::BadRequest(
                "Connector config is missing required \"connector.class\"".into(),
            )
        })?;
        let plugin = self
            .worker
            .plugins
            .find(class)
            .ok_or_else(|| HerderError::BadRequest(self.worker.plugins.unknown(class)))?;
        let mut issues =
            SinkConnectorConfig::validate(config, plugin.as_ref(), &self.worker.config);
        issues.extend(masked_secret_issues(
            &def_for(plugin.as_ref(), config),
            config,
        ));
        Ok((plugin, issues))
    }

    /// Connect's message for an invalid config, listing every error.
    pub fn validate_for_create(&self, config: &ConfigMap) -> HerderResult<()> {
        let (plugin, issues) = self.config_issues(config)?;
        if issues.is_empty() {
            return Ok(());
        }
        let listed: Vec<String> = issues
            .iter()
            .map(|i| format!("{}: {}", i.key, i.message))
            .collect();
        Err(HerderError::BadRequest(format!(
            "Connector configuration is invalid and contains the following {} error(s):\n{}\nYou can also find the above list of errors at the endpoint `/connector-plugins/{}/config/validate`",
            issues.len(),
            listed.join("\n"),
            plugin.class_name()
        )))
    }

    /// `incoming` with every secret that a client sent back as the mask
    /// replaced by the value `stored` holds (a GET-then-PUT keeps secrets).
    pub fn unmasked(&self, mut incoming: ConfigMap, stored: Option<&ConfigMap>) -> ConfigMap {
        if let Some(plugin) = incoming
            .get("connector.class")
            .and_then(|c| self.worker.plugins.find(c))
        {
            let def = def_for(plugin.as_ref(), &incoming);
            restore_secrets(&def, &mut incoming, stored);
        }
        incoming
    }

    /// `config` as the API shows it: PASSWORD values as `[hidden]`, except
    /// a value that is one config provider reference (`${file:/x:key}`),
    /// shown as it is (as Connect shows it): it says where the secret comes
    /// from and is not one, and a GET-then-PUT sends it back unchanged.
    pub fn masked(&self, config: &ConfigMap) -> ConfigMap {
        let mut shown = match config
            .get("connector.class")
            .and_then(|c| self.worker.plugins.find(c))
        {
            Some(plugin) => mask(&def_for(plugin.as_ref(), config), config),
            None => config.clone(),
        };
        for (key, value) in config {
            if crate::config_provider::is_reference(value) {
                shown.insert(key.clone(), value.clone());
            }
        }
        shown
    }

    /// A 500 whose message carries the cause, with every stored secret
    /// taken out of it.
    pub fn internal(&self, error: impl std::fmt::Display) -> HerderError {
        let mut message = error.to_string();
        for state in self.configs.snapshot().values() {
            let masked = self.masked(&state.config);
            for (key, value) in &state.config {
                if !value.is_empty() && masked.get(key) != Some(value) {
                    message = message.replace(value.as_str(), HIDDEN);
                }
            }
        }
        HerderError::Internal(message)
    }

    /// The config a PUT stores: named after the URL, secrets sent back as
    /// the mask restored from `stored`, and valid.
    pub fn config_for_put(
        &self,
        name: &str,
        mut config: ConfigMap,
        stored: Option<&ConfigMap>,
    ) -> HerderResult<ConfigMap> {
        check_name_matches(name, &config)?;
        config.insert("name".into(), name.to_string());
        let config = self.unmasked(config, stored);
        self.validate_for_create(&config)?;
        Ok(config)
    }

    /// `stored` with `patch` merged in (a `None` value removes the key),
    /// secrets sent back as the mask restored, and valid.
    pub fn config_for_patch(
        &self,
        name: &str,
        stored: &ConfigMap,
        patch: Vec<(String, Option<String>)>,
    ) -> HerderResult<ConfigMap> {
        let mut config = stored.clone();
        for (key, value) in patch {
            if key == "name" && value.as_deref() != Some(name) {
                return Err(HerderError::BadRequest(
                    "Connector name configuration cannot be changed".into(),
                ));
            }
            match value {
                Some(v) => config.insert(key, v),
                None => config.remove(&key),
            };
        }
        let config = self.unmasked(config, Some(stored));
        self.validate_for_create(&config)?;
        Ok(config)
    }

    // ---- restarts ----

    /// What `request` restarts, from the statuses now reported.
    pub fn restart_plan(&self, name: &str, request: RestartRequest) -> HerderResult<RestartPlan> {
        let status = self.status(name)?;
        let connector_failed = status.connector.state == State::Failed;
        let tasks = if request.include_tasks {
            status
                .tasks
                .iter()
                .filter(|t| !request.only_failed || t.status.state == State::Failed)
                .map(|t| t.id)
                .collect()
        } else {
            Vec::new()
        };
        Ok(RestartPlan {
            connector: !request.only_failed || connector_failed,
            tasks,
        })
    }

    /// Report RESTARTING for everything `plan` restarts, and answer with
    /// the status as it now reads (what Connect's 202 body shows).
    pub fn mark_restarting(&self, name: &str, plan: &RestartPlan) -> HerderResult<ConnectorStatus> {
        if plan.connector {
            self.listener.connector(name).set(State::Restarting);
        }
        for task in &plan.tasks {
            self.listener.task(name, *task).set(State::Restarting);
        }
        self.status(name)
    }

    // ---- plugins ----

    pub fn plugins(&self, connectors_only: bool) -> Vec<PluginInfo> {
        let mut plugins: Vec<PluginInfo> = self
            .worker
            .plugins
            .all()
            .iter()
            .map(|p| PluginInfo {
                class_name: p.class_name().to_string(),
                kind: "sink",
                version: Some(p.version().to_string()),
            })
            .collect();
        if !connectors_only {
            let others = CONVERTERS
                .iter()
                .map(|(class, _)| (class.to_string(), "converter"))
                .chain(crate::transforms::plugin_classes());
            plugins.extend(others.map(|(class_name, kind)| PluginInfo {
                class_name,
                kind,
                version: Some(env!("CARGO_PKG_VERSION").to_string()),
            }));
        }
        plugins
    }

    pub fn plugin_config(&self, plugin: &str) -> HerderResult<Vec<ConfigKeyInfo>> {
        if let Some(keys) = converter_config_keys(plugin) {
            return Ok(keys);
        }
        if let Some(def) = crate::transforms::config_def(plugin) {
            return Ok(def.keys.iter().map(ConfigKeyInfo::from).collect());
        }
        let plugin = self
            .worker
            .plugins
            .find(plugin)
            .ok_or_else(|| HerderError::NotFound(format!("Unknown plugin {plugin}.")))?;
        Ok(plugin_config_keys(plugin.as_ref()))
    }

    pub fn validate(&self, plugin_name: &str, mut config: ConfigMap) -> HerderResult<ConfigInfos> {
        let plugin = self
            .worker
            .plugins
            .find(plugin_name)
            .ok_or_else(|| HerderError::NotFound(format!("Unknown plugin {plugin_name}.")))?;
        match config.get("connector.class") {
            None => {
                config.insert("connector.class".into(), plugin.class_name().to_string());
            }
            Some(class) => {
                let same = self
                    .worker
                    .plugins
                    .find(class)
                    .is_some_and(|p| p.class_name() == plugin.class_name());
                if !same {
                    return Err(HerderError::BadRequest(format!(
                        "Included connector type {class} does not match request type {plugin_name}"
                    )));
                }
            }
        }
        // A form filled from GET …/config carries the mask: check the stored secret.
        let stored = config
            .get("name")
            .and_then(|n| self.configs.connector(n))
            .map(|s| s.config);
        let config = self.unmasked(config, stored.as_ref());
        let (_, issues) = self.config_issues(&config)?;
        Ok(config_infos(plugin.as_ref(), &config, &issues))
    }

    // ---- settings-gated endpoints and offsets ----

    pub fn topic_tracking(&self, reset: bool) -> HerderResult<()> {
        let settings = &self.worker.config;
        if !settings.topic_tracking_enable {
            return Err(HerderError::Forbidden("Topic tracking is disabled.".into()));
        }
        if reset && !settings.topic_tracking_allow_reset {
            return Err(HerderError::Forbidden(
                "Topic tracking reset is disabled.".into(),
            ));
        }
        Ok(())
    }

    /// An offset operation (blocking rdkafka calls) on a blocking thread,
    /// with the config's references resolved; its failure is a 500 with the
    /// cause and no secret in it.
    pub async fn offsets_blocking<T: Send + 'static, E: std::fmt::Display + Send + 'static>(
        &self,
        name: &str,
        config: ConfigMap,
        op: impl FnOnce(&WorkerConfig, &str, &ConfigMap) -> Result<T, E> + Send + 'static,
    ) -> HerderResult<T> {
        // The connector's consumer settings may hold provider references.
        let (config, _) = self
            .worker
            .resolve(&config)
            .map_err(|e| HerderError::BadRequest(e.to_string()))?;
        let (worker, name) = (self.worker.config.clone(), name.to_string());
        tokio::task::spawn_blocking(move || op(&worker, &name, &config))
            .await
            .map_err(|e| HerderError::Internal(format!("offset operation panicked: {e}")))?
            .map_err(|e| self.internal(e))
    }

    /// Connect's message when offsets are changed on a running connector.
    pub fn must_be_stopped(name: &str) -> HerderError {
        HerderError::BadRequest(format!(
            "Connectors must be in the STOPPED state before their offsets can be modified. This can be done for the specified connector by issuing a 'PUT' request to the '/connectors/{name}/stop' endpoint"
        ))
    }
}

/// What tasks of a started or paused connector are told.
pub fn task_target(target: TargetState) -> TaskTarget {
    if target == TargetState::Paused {
        TaskTarget::Paused
    } else {
        TaskTarget::Running
    }
}

/// The state a connector reports for the state asked of it.
pub fn running_state(target: TargetState) -> State {
    match target {
        TargetState::Started => State::Running,
        TargetState::Paused => State::Paused,
        TargetState::Stopped => State::Stopped,
    }
}

/// The name is a valid connector name, and the config's own `name`, if
/// any, is the same.
pub fn check_name_matches(name: &str, config: &ConfigMap) -> HerderResult<()> {
    check_connector_name(name).map_err(|e| HerderError::BadRequest(e.to_string()))?;
    match config.get("name") {
        Some(n) if n != name => Err(HerderError::BadRequest(format!(
            "Connector name configuration ({n}) doesn't match connector name in the URL ({name})"
        ))),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use connect_api::{ConfigDef, SinkConnector, SinkTask};
    use schemars::JsonSchema;
    use serde::Deserialize;

    use super::*;
    use crate::plugins::PluginRegistry;
    use crate::storage::{MemoryConfigStore, MemoryStatusStore};
    use crate::test_support::config_map as config;
    use crate::worker_config::WorkerConfig;

    /// A plugin with one secret, enough for the core's rules.
    struct Vault;

    #[derive(Deserialize, JsonSchema)]
    #[allow(dead_code)]
    struct VaultConfig {
        /// Where the vault is.
        url: String,
        /// The vault's token.
        #[schemars(extend("writeOnly" = true))]
        token: String,
    }

    impl SinkConnectorPlugin for Vault {
        fn version(&self) -> &'static str {
            "1.0"
        }
        fn class_name(&self) -> &'static str {
            "test.VaultSink"
        }
        fn aliases(&self) -> &'static [&'static str] {
            &[]
        }
        fn config_def(&self) -> ConfigDef {
            ConfigDef::from_schema::<VaultConfig>("Vault")
        }
        fn create_connector(&self) -> Box<dyn SinkConnector> {
            unreachable!("the core never starts instances")
        }
        fn create_task(&self) -> Box<dyn SinkTask> {
            unreachable!("the core never starts instances")
        }
    }

    fn core() -> HerderCore {
        let settings = [("bootstrap.servers".to_string(), "127.0.0.1:1".to_string())];
        let worker = Worker::new(
            Arc::new(WorkerConfig::from_settings(settings.into()).unwrap()),
            PluginRegistry::new(vec![Arc::new(Vault)]),
        );
        HerderCore::new(
            worker,
            Arc::new(MemoryConfigStore::default()),
            Arc::new(MemoryStatusStore::default()),
            "test".into(),
        )
    }

    fn vault(token: &str) -> ConfigMap {
        config(&[
            ("connector.class", "test.VaultSink"),
            ("topics", "t"),
            ("url", "http://vault"),
            ("token", token),
        ])
    }

    async fn stored(core: &HerderCore, name: &str, config: ConfigMap) {
        core.configs
            .put_connector_config(name, config, None)
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn reads_mask_secrets_and_a_put_of_the_mask_keeps_them() {
        let core = core();
        let first = core.config_for_put("v", vault("s3cret"), None).unwrap();
        assert_eq!(first["name"], "v", "the URL names the connector");
        stored(&core, "v", first.clone()).await;
        let shown = core.connector_config("v").unwrap();
        assert_eq!(shown["token"], HIDDEN);
        assert_eq!(core.info("v").unwrap().config["token"], HIDDEN);

        let again = core.config_for_put("v", shown, Some(&first)).unwrap();
        assert_eq!(again["token"], "s3cret");
        // With nothing stored behind it, the mask is refused, never stored.
        let refused = core.config_for_put("w", vault(HIDDEN), None);
        assert!(
            matches!(&refused, Err(HerderError::BadRequest(m)) if m.contains("token")),
            "{refused:?}"
        );
        // And a 500's message never carries a stored secret.
        let error = core.internal("write failed for token s3cret");
        assert_eq!(error.to_string(), "write failed for token [hidden]");
    }

    #[tokio::test]
    async fn a_converters_secrets_are_masked_and_kept_like_the_connectors() {
        let core = core();
        let mut config = vault("s3cret");
        for (k, v) in [
            ("value.converter", "io.confluent.connect.avro.AvroConverter"),
            ("value.converter.schema.registry.url", "http://sr:8081"),
            ("value.converter.basic.auth.credentials.source", "USER_INFO"),
            ("value.converter.basic.auth.user.info", "sr-user:sr-pass"),
        ] {
            config.insert(k.into(), v.into());
        }
        let first = core.config_for_put("v", config, None).unwrap();
        stored(&core, "v", first.clone()).await;
        let shown = core.connector_config("v").unwrap();
        assert_eq!(shown["value.converter.basic.auth.user.info"], HIDDEN);
        assert_eq!(
            shown["value.converter.schema.registry.url"],
            "http://sr:8081"
        );
        let again = core.config_for_put("v", shown, Some(&first)).unwrap();
        assert_eq!(
            again["value.converter.basic.auth.user.info"], "sr-user:sr-pass",
            "a GET-then-PUT keeps the registry password"
        );
    }

    #[test]
    fn names_are_checked_one_way() {
        let core = core();
        let mut named = vault("t");
        named.insert("name".into(), "other".into());
        assert!(matches!(
            core.config_for_put("v", named, None),
            Err(HerderError::BadRequest(m)) if m.contains("doesn't match")
        ));
        for bad in ["", "a/b", ".", ".."] {
            assert!(
                core.config_for_put(bad, vault("t"), None).is_err(),
                "{bad:?} is refused"
            );
        }
    }

    #[test]
    fn a_patch_merges_removes_and_keeps_the_name() {
        let core = core();
        let mut stored = core.config_for_put("v", vault("s3cret"), None).unwrap();
        stored.insert("errors.tolerance".into(), "all".into());
        let patched = core
            .config_for_patch(
                "v",
                &stored,
                vec![
                    ("url".into(), Some("http://other".into())),
                    ("errors.tolerance".into(), None),
                    ("token".into(), Some(HIDDEN.into())),
                ],
            )
            .unwrap();
        assert_eq!(patched["url"], "http://other");
        assert!(!patched.contains_key("errors.tolerance"));
        assert_eq!(patched["token"], "s3cret");
        let renamed = core.config_for_patch("v", &stored, vec![("name".into(), Some("x".into()))]);
        assert!(matches!(renamed, Err(HerderError::BadRequest(_))));
        let invalid = core.config_for_patch("v", &stored, vec![("url".into(), None)]);
        assert!(
            matches!(&invalid, Err(HerderError::BadRequest(m)) if m.contains("url")),
            "{invalid:?}"
        );
    }

    #[tokio::test]
    async fn restart_plans_follow_the_reported_states() {
        let core = core();
        stored(&core, "v", vault("t")).await;
        core.listener.connector("v").set(State::Running);
        core.listener.task("v", 0).set(State::Running);
        core.listener.task("v", 1).fail("boom");
        let plan = |include_tasks, only_failed| {
            core.restart_plan(
                "v",
                RestartRequest {
                    include_tasks,
                    only_failed,
                },
            )
            .unwrap()
        };
        assert_eq!(
            plan(false, false),
            RestartPlan {
                connector: true,
                tasks: vec![]
            }
        );
        assert_eq!(
            plan(true, false),
            RestartPlan {
                connector: true,
                tasks: vec![0, 1]
            }
        );
        assert_eq!(
            plan(true, true),
            RestartPlan {
                connector: false,
                tasks: vec![1]
            }
        );
        assert!(
            core.restart_plan(
                "nope",
                RestartRequest {
                    include_tasks: false,
                    only_failed: false
                }
            )
            .is_err()
        );
    }

    #[tokio::test]
    async fn restarting_is_reported_until_the_new_instance_reports() {
        let core = core();
        stored(&core, "v", vault("t")).await;
        let old_task = core.listener.task("v", 0);
        old_task.set(State::Running);
        let plan = RestartPlan {
            connector: false,
            tasks: vec![0],
        };
        let shown = core.mark_restarting("v", &plan).unwrap();
        assert_eq!(shown.tasks[0].status.state, State::Restarting);
        // The instance being replaced cannot overwrite the marker...
        old_task.fail("stopping");
        assert_eq!(
            core.task_status("v", 0).unwrap().status.state,
            State::Restarting
        );
        // ...its successor can.
        core.listener.task("v", 0).set(State::Running);
        assert_eq!(
            core.task_status("v", 0).unwrap().status.state,
            State::Running
        );
        core.listener.task_removed("v", 0);
        assert!(core.task_status("v", 0).is_err());
        assert!(core.status("v").unwrap().tasks.is_empty());
    }

    #[test]
    fn validate_names_the_plugin_and_refuses_another_class() {
        let core = core();
        let report = core
            .validate("test.VaultSink", config(&[("topics", "t")]))
            .unwrap();
        assert_eq!(report.name, "test.VaultSink");
        assert!(report.error_count >= 2, "url and token are required");
        let mismatch = core.validate("test.VaultSink", config(&[("connector.class", "Other")]));
        assert!(matches!(mismatch, Err(HerderError::BadRequest(_))));
        assert!(matches!(
            core.validate("Nope", ConfigMap::new()),
            Err(HerderError::NotFound(_))
        ));
    }
}
