//! The registries' CronJob pods: `_helpers.yaml`'s pod macro rendered once per render and
//! filled in per registry, instead of run once per registry.
//!
//! A registry's pod differs from another's only in its pod labels, its ConfigMap and its
//! credentials Secret (or none). So the macro runs for a stand-in registry whose three parts are
//! sentinels, once with a credentials Secret and once without, and its output is cut at the
//! sentinels into constant pieces; each registry's pod is then those pieces with its own parts
//! between them, written as the template would write them (the labels indented as
//! `|indent(4)` inside `|indent(8)` indents them, the names JSON-quoted as the formatter quotes
//! them). The text is the macro's own: the pod is still defined only in `_helpers.yaml`.

use minijinja::{Environment, Value, context};

use super::env::{indent_text, quote};
use crate::Error;

/// Where the CronJob template places the pod: `template:` at 6 spaces, the pod under it.
const INDENT: usize = 8;
/// The pod macro indents its labels under `metadata.labels` by this much.
const LABELS_INDENT: usize = 4;

/// Stand-ins for a registry's parts: no registry name, label or object name can contain them
/// (a registry name is a DNS label, object names derive from it; labels are quoted values).
const LABELS: &str = "ecr-chart-pod-sentinel-labels-5b2e";
const CONFIG_MAP: &str = "ecr-chart-pod-sentinel-config-map-5b2e";
const SECRET: &str = "ecr-chart-pod-sentinel-secret-5b2e";

/// The template that renders the stand-in's pod exactly as `cronjob.yaml` once did per
/// registry (`*.yaml`: the same JSON auto-escaping as every manifest template).
const NAME: &str = "_cron_job_pod.yaml";
const SOURCE: &str = "{% import \"_helpers.yaml\" as h %}{{ h.pod(registry)|indent(8) }}";

/// The constant pieces of the CronJob pod, with and without a credentials Secret.
#[derive(Debug)]
pub struct PodShape {
    /// Before the labels, between the labels and the ConfigMap, after the ConfigMap.
    plain: [String; 3],
    /// The same, then between the ConfigMap and the Secret, after the Secret.
    with_secret: [String; 4],
}

impl PodShape {
    /// Render the stand-in's pod twice with `context` (the manifests' context, without the
    /// registries) and cut it at the sentinels.
    pub fn new(env: &Environment<'_>, context: &Value) -> Result<Self, Error> {
        let render = |secret: Option<&str>| {
            let registry = context! {
                podLabels => Value::from_safe_string(LABELS.to_owned()),
                names => context! { configMap => CONFIG_MAP },
                credentialsSecret => secret,
            };
            env.render_named_str(NAME, SOURCE, context! { registry, ..context.clone() })
                .map_err(|source| Error::Render {
                    template: "cronjob.yaml".to_owned(),
                    source,
                })
        };
        let mut quoted_config_map = String::new();
        quote(&mut quoted_config_map, CONFIG_MAP);
        let mut quoted_secret = String::new();
        quote(&mut quoted_secret, SECRET);
        let plain = render(None)?;
        let with_secret = render(Some(SECRET))?;
        Ok(Self {
            plain: cut(&plain, [LABELS, &quoted_config_map])?,
            with_secret: cut(&with_secret, [LABELS, &quoted_config_map, &quoted_secret])?,
        })
    }

    /// The CronJob pod of a registry with these pod labels (safe label lines), ConfigMap and
    /// credentials Secret, as `{{ h.pod(registry)|indent(8) }}` writes it.
    pub fn fill(&self, pod_labels: &str, config_map: &str, secret: Option<&str>) -> String {
        let labels = indent_text(
            &indent_text(pod_labels, LABELS_INDENT, false, false),
            INDENT,
            false,
            false,
        );
        let pieces: &[String] = match secret {
            Some(_) => &self.with_secret,
            None => &self.plain,
        };
        let mut out = String::with_capacity(
            pieces.iter().map(String::len).sum::<usize>() + labels.len() + 128,
        );
        out.push_str(&pieces[0]);
        out.push_str(&labels);
        out.push_str(&pieces[1]);
        quote(&mut out, config_map);
        out.push_str(&pieces[2]);
        if let Some(secret) = secret {
            quote(&mut out, secret);
            out.push_str(&pieces[3]);
        }
        out
    }
}

/// `text` cut at each of `sentinels`, which must occur once each, in this order.
fn cut<const N: usize, const M: usize>(
    text: &str,
    sentinels: [&str; N],
) -> Result<[String; M], Error> {
    let shape_error = |what: &str| Error::Render {
        template: "cronjob.yaml".to_owned(),
        source: minijinja::Error::new(
            minijinja::ErrorKind::InvalidOperation,
            format!("the pod macro's output cannot be filled in per registry: {what}"),
        ),
    };
    let mut pieces = Vec::with_capacity(M);
    let mut rest = text;
    for sentinel in sentinels {
        let (before, after) = rest
            .split_once(sentinel)
            .ok_or_else(|| shape_error(&format!("{sentinel} is missing")))?;
        pieces.push(before.to_owned());
        rest = after;
    }
    if sentinels.iter().any(|s| text.matches(s).count() != 1) {
        return Err(shape_error("a registry's part is written more than once"));
    }
    pieces.push(rest.to_owned());
    pieces
        .try_into()
        .map_err(|_| shape_error("the pieces do not match the parts"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::{Release, Renderer};
    use crate::values::{self, Source};

    /// Every registry's filled-in pod, beside the macro's own output for it, of `text`.
    fn both_pods(name: &str, text: &str) -> Vec<(Value, String)> {
        let values = values::load(&[Source {
            name: name.to_owned(),
            text: text.to_owned(),
        }])
        .unwrap_or_else(|e| panic!("{name} is valid:\n{e}"));
        let release = Release {
            name: "ecr".to_owned(),
            namespace: "ecr-system".to_owned(),
        };
        let renderer = Renderer::new(&values, &release);
        let source = "{% import \"_helpers.yaml\" as h %}{% for registry in registries %}\
                      {{ h.pod(registry)|indent(8) }}\u{0}{% endfor %}";
        let by_macro = renderer
            .env
            .render_named_str("t.yaml", source, &renderer.context)
            .expect("the pod macro renders");
        let registries = renderer
            .context
            .get_attr("registries")
            .expect("the context has the registries");
        let filled = registries
            .try_iter()
            .expect("a list")
            .map(|r| r.get_attr("cronJobPod").expect("a field"));
        filled
            .zip(by_macro.split_terminator('\u{0}').map(str::to_owned))
            .collect()
    }

    #[test]
    fn every_fixtures_cron_job_pods_are_the_pod_macros_output() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/fixtures/values");
        let mut pods = 0;
        for entry in std::fs::read_dir(dir).expect("the fixtures directory") {
            let path = entry.expect("an entry").path();
            let text = std::fs::read_to_string(&path).expect("a fixture");
            let name = path.display().to_string();
            let both = both_pods(&name, &text);
            for (filled, by_macro) in both {
                assert!(
                    filled.is_safe(),
                    "{name}: no filled-in pod (the macro ran per registry)"
                );
                assert_eq!(filled.as_str(), Some(by_macro.as_str()), "{name}");
                pods += 1;
            }
        }
        assert!(pods >= 14, "only {pods} pods compared");
    }

    #[test]
    fn labels_names_and_both_credential_shapes_come_out_as_the_macro_writes_them() {
        let text = r#"ecrRegistries:
  - name: plain
    region: eu-west-1
    namespace: apps
    accessMode: serviceAccount
  - name: secret
    region: us-east-1
    namespaces: [a, b]
    accessMode: existingSecret
    existingSecret: my-creds
podLabels:
  team: a-b
  tier: x.y
podAnnotations:
  note: "a \"quoted\" one\nand a second line"
tolerations:
  - key: k
    operator: Exists
"#;
        let both = both_pods("labels.yaml", text);
        assert_eq!(both.len(), 2);
        for (filled, by_macro) in &both {
            assert_eq!(filled.as_str(), Some(by_macro.as_str()));
        }
        assert!(both[1].1.contains("secretRef:"), "{}", both[1].1);
        assert!(!both[0].1.contains("secretRef:"), "{}", both[0].1);
        assert!(both[0].1.contains("\"tier\": \"x.y\""), "{}", both[0].1);
    }

    #[test]
    fn a_text_is_cut_once_at_each_sentinel_in_order() {
        let pieces: [String; 3] = cut("a X b Y c", ["X", "Y"]).expect("cuts");
        assert_eq!(pieces, ["a ", " b ", " c"].map(str::to_owned));
        assert!(cut::<2, 3>("a Y b X c", ["X", "Y"]).is_err());
        assert!(cut::<2, 3>("a X b Y c X", ["X", "Y"]).is_err());
    }
}
