//! Values coalescing as helm does it (`chartutil.CoalesceValues` after
//! `ProcessDependencies`): supplied values override a chart's defaults; a subchart sees its
//! parent's values under its alias (or name); `global` flows down with the parent winning;
//! a dependency's `condition` (first path that resolves to a boolean) and `tags` (from the
//! top-level `tags:` table) switch subcharts on or off.
//!
//! oc-mirror v1 (4.11–4.16) skipped this step, so aliased subcharts rendered with their own
//! defaults (issue #1037, fixed by PR #1038); Ferry follows helm.

use crate::chart::Chart;
use crate::yaml::{coalesce, path_value, Map, Value};

/// One chart of the tree with the values it renders with.
#[derive(Debug, Clone)]
pub struct Scope<'a> {
    pub chart: &'a Chart,
    /// Names from the top chart down, aliases applied, e.g. `["my-chart", "upstream", "postgresql"]`.
    pub path: Vec<String>,
    /// Coalesced values of this chart (its `.Values`).
    pub values: Map,
    /// Keys of `values` that belong to subcharts (enabled or not): they are scanned in the
    /// subchart's own scope, or not at all when it is disabled.
    pub subchart_keys: Vec<String>,
}

/// A subchart switched off by its condition or tags (kept for the plan's explanation).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Disabled {
    pub path: Vec<String>,
    pub reason: String,
}

/// Coalesce `supplied` (the user's values, already merged) over the chart tree.
pub fn scopes<'a>(top: &'a Chart, supplied: &Map) -> (Vec<Scope<'a>>, Vec<Disabled>) {
    let mut out = Vec::new();
    let mut disabled = Vec::new();
    let top_vals = coalesce(supplied, &top.values);
    walk(
        top,
        supplied,
        vec![top.metadata.name.clone()],
        &top_vals,
        &mut out,
        &mut disabled,
    );
    (out, disabled)
}

/// The subcharts of `chart` with the name each is known by (alias or name) and its dependency
/// entry. A dependency listed twice with different aliases yields two instances, as in helm.
fn instances(chart: &Chart) -> Vec<(String, &Chart, Option<&crate::chart::Dependency>)> {
    let mut out = Vec::new();
    let mut used = vec![false; chart.subcharts.len()];
    for dep in &chart.metadata.dependencies {
        if let Some((i, sc)) = chart
            .subcharts
            .iter()
            .enumerate()
            .find(|(_, s)| s.metadata.name == dep.name)
        {
            used[i] = true;
            let name = dep
                .alias
                .clone()
                .filter(|a| !a.is_empty())
                .unwrap_or_else(|| dep.name.clone());
            out.push((name, sc, Some(dep)));
        }
    }
    // Subcharts vendored in charts/ without a dependency entry are rendered by helm too.
    for (i, sc) in chart.subcharts.iter().enumerate() {
        if !used[i] {
            out.push((sc.metadata.name.clone(), sc, None));
        }
    }
    out
}

fn walk<'a>(
    chart: &'a Chart,
    supplied: &Map,
    path: Vec<String>,
    top_vals: &Map,
    out: &mut Vec<Scope<'a>>,
    disabled: &mut Vec<Disabled>,
) {
    let mut vals = coalesce(supplied, &chart.values);
    let global = match (supplied.get("global"), chart.values.get("global")) {
        (Some(Value::Object(p)), Some(Value::Object(c))) => Some(coalesce(p, c)),
        (Some(Value::Object(p)), _) => Some(p.clone()),
        (_, Some(Value::Object(c))) => Some(c.clone()),
        _ => None,
    };
    if let Some(g) = &global {
        vals.insert("global".into(), Value::Object(g.clone()));
    }
    let mut subchart_keys = Vec::new();
    let mut children = Vec::new();
    for (name, sc, dep) in instances(chart) {
        subchart_keys.push(name.clone());
        let mut child_path = path.clone();
        child_path.push(name.clone());
        if let Some(reason) = dep.and_then(|d| why_disabled(d, &vals, top_vals)) {
            disabled.push(Disabled {
                path: child_path,
                reason,
            });
            continue;
        }
        let mut child_supplied = match vals.get(&name) {
            Some(Value::Object(m)) => m.clone(),
            _ => Map::new(),
        };
        if let Some(g) = &global {
            let merged = match child_supplied.get("global") {
                Some(Value::Object(cg)) => coalesce(g, cg),
                _ => g.clone(),
            };
            child_supplied.insert("global".into(), Value::Object(merged));
        }
        children.push((sc, child_supplied, child_path));
    }
    out.push(Scope {
        chart,
        path,
        values: vals,
        subchart_keys,
    });
    for (sc, child_supplied, child_path) in children {
        walk(sc, &child_supplied, child_path, top_vals, out, disabled);
    }
}

/// Helm's rule: the first condition path that resolves to a boolean decides; otherwise the
/// tags decide (enabled when any listed tag is true, disabled when all that are set are false);
/// otherwise the subchart is enabled.
fn why_disabled(dep: &crate::chart::Dependency, parent_vals: &Map, top_vals: &Map) -> Option<String> {
    if let Some(cond) = &dep.condition {
        for c in cond.split(',').map(str::trim).filter(|c| !c.is_empty()) {
            if let Some(Value::Bool(b)) = path_value(parent_vals, c) {
                return (!b).then(|| format!("condition `{c}` is false"));
            }
        }
    }
    if dep.tags.is_empty() {
        return None;
    }
    let tags = top_vals.get("tags").and_then(Value::as_object);
    let set: Vec<(&String, bool)> = dep
        .tags
        .iter()
        .filter_map(|t| tags.and_then(|m| m.get(t)).and_then(Value::as_bool).map(|b| (t, b)))
        .collect();
    if !set.is_empty() && set.iter().all(|(_, b)| !b) {
        let names: Vec<&str> = set.iter().map(|(t, _)| t.as_str()).collect();
        return Some(format!("tags {} are false", names.join(", ")));
    }
    None
}
