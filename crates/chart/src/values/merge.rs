//! Merging values files like Helm (maps deep-merge, lists replace, later wins, null deletes),
//! and finding which file last set a field of the merged values.

use serde_json::Value;

use super::load::{NodeKind, PathIndex, spot_in};
use super::path::FieldPath;
use super::report::{Span, Spot};

/// Merge `overlay` into `base`: mappings merge key by key, anything else (lists, scalars,
/// null) replaces. Runs in time linear in the size of `overlay`.
pub fn merge_into(base: &mut Value, overlay: Value) {
    match (base, overlay) {
        (Value::Object(base), Value::Object(overlay)) => {
            for (key, value) in overlay {
                match base.get_mut(&key) {
                    Some(existing) if existing.is_object() && value.is_object() => {
                        merge_into(existing, value);
                    }
                    _ => {
                        base.insert(key, value);
                    }
                }
            }
        }
        (base, overlay) => *base = overlay,
    }
}

/// Merge every document in order, then delete keys whose value is null (so defaults apply).
#[cfg(test)]
pub fn merge_all(documents: impl IntoIterator<Item = Value>) -> Value {
    let mut merged = merge_files(documents);
    remove_nulls(&mut merged);
    merged
}

/// Merge every document in order, nulls kept: what Helm makes of `-f a -f b` before it lays
/// the result over the chart's own values.
pub fn merge_files(documents: impl IntoIterator<Item = Value>) -> Value {
    let mut merged = Value::Object(serde_json::Map::new());
    for document in documents {
        merge_into(&mut merged, document);
    }
    merged
}

/// Delete every mapping entry whose value is null, except inside lists: Helm's coalescing of
/// values never looks into a list, so a null there stays in `.Values`.
pub fn remove_nulls_outside_lists(value: &mut Value) {
    if let Value::Object(map) = value {
        map.retain(|_, v| !v.is_null());
        map.values_mut().for_each(remove_nulls_outside_lists);
    }
}

/// Delete every mapping entry whose value is null, at any depth (list items stay as they are,
/// but mappings inside lists lose their null entries too).
pub fn remove_nulls(value: &mut Value) {
    match value {
        Value::Object(map) => {
            map.retain(|_, v| !v.is_null());
            map.values_mut().for_each(remove_nulls);
        }
        Value::Array(items) => items.iter_mut().for_each(remove_nulls),
        _ => {}
    }
}

/// The spot in the files that gave the merged values their `path`: the last file that set it,
/// unless a later file replaced a parent of it with a list or scalar. `indexes` are in merge
/// order. `on_key` asks for the key rather than the value.
pub fn locate(indexes: &[&PathIndex], path: &FieldPath, on_key: bool) -> Spot {
    for (file, index) in indexes.iter().enumerate().rev() {
        // This file set the path itself, or replaced a parent of it wholesale (a list or a
        // scalar): it is the one. Mapping parents deep-merged with earlier files, which may
        // hold the path.
        let owns = path.prefixes().any(|prefix| match index.get(&prefix) {
            Some(location) => prefix == *path || location.kind != NodeKind::Mapping,
            None => false,
        });
        if owns {
            return spot_in(file, index, path, on_key);
        }
    }
    // Not set by any file (a default): point at the deepest parent in the last file that has one.
    for (file, index) in indexes.iter().enumerate().rev() {
        if path
            .prefixes()
            .any(|p| !p.is_root() && index.contains_key(&p))
        {
            return spot_in(file, index, path, on_key);
        }
    }
    Spot {
        file: indexes.len().saturating_sub(1),
        span: Span { offset: 0, len: 0 },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::values::load;
    use serde_json::json;

    fn merged(docs: &[Value]) -> Value {
        merge_all(docs.iter().cloned())
    }

    #[test]
    fn maps_merge_deeply_and_later_files_win() {
        let a = json!({"image": {"repository": "r", "tag": "1"}, "cronJob": {"suspend": false}});
        let b = json!({"image": {"tag": "2"}, "cronJob": {"suspend": true}});
        assert_eq!(
            merged(&[a, b]),
            json!({"image": {"repository": "r", "tag": "2"}, "cronJob": {"suspend": true}})
        );
    }

    #[test]
    fn lists_replace_instead_of_merging() {
        let a = json!({"ecrRegistries": [{"name": "a"}, {"name": "b"}]});
        let b = json!({"ecrRegistries": [{"name": "c"}]});
        assert_eq!(merged(&[a, b]), json!({"ecrRegistries": [{"name": "c"}]}));
    }

    #[test]
    fn null_deletes_the_key_so_the_default_applies() {
        let a = json!({"image": {"tag": "1", "repository": "r"}, "cronJob": {"timeZone": "UTC"}});
        let b = json!({"image": {"tag": null}, "cronJob": null});
        assert_eq!(merged(&[a, b]), json!({"image": {"repository": "r"}}));
    }

    #[test]
    fn helm_keeps_nulls_inside_lists_and_drops_the_others() {
        let mut v = json!({"a": null, "b": {"c": null, "d": 1}, "l": [{"e": null}, null]});
        remove_nulls_outside_lists(&mut v);
        assert_eq!(v, json!({"b": {"d": 1}, "l": [{"e": null}, null]}));
    }

    #[test]
    fn nulls_inside_list_items_are_deleted_but_null_items_stay() {
        let a = json!({"ecrRegistries": [{"name": "a", "schedule": null}, null]});
        assert_eq!(
            merged(&[a]),
            json!({"ecrRegistries": [{"name": "a"}, null]})
        );
    }

    #[test]
    fn a_scalar_replaces_a_map_and_a_map_replaces_a_scalar() {
        let a = json!({"x": {"y": 1}, "z": 1});
        let b = json!({"x": 5, "z": {"w": 2}});
        assert_eq!(merged(&[a, b]), json!({"x": 5, "z": {"w": 2}}));
    }

    #[test]
    fn the_last_file_that_set_a_path_is_located() {
        let first = "ecrRegistries:\n  - name: a\n    schedule: x\nimage:\n  tag: '1'\n";
        let second = "image:\n  repository: r\n";
        let third = "ecrRegistries:\n  - name: b\n";
        let (i1, i2, i3) = (load::index(first), load::index(second), load::index(third));
        let path = FieldPath::root().key("image").key("tag");
        let spot = locate(&[&i1, &i2, &i3], &path, false);
        assert_eq!(spot.file, 0);
        assert_eq!(&first[spot.span.offset..][..3], "'1'");
        let path = FieldPath::root().key("image").key("repository");
        assert_eq!(locate(&[&i1, &i2, &i3], &path, false).file, 1);
        // The third file replaced the list: its item 0 is the one, even for a field it lacks.
        let path = FieldPath::root()
            .key("ecrRegistries")
            .index(0)
            .key("schedule");
        let spot = locate(&[&i1, &i2, &i3], &path, false);
        assert_eq!(spot.file, 2);
        assert_eq!(&third[spot.span.offset..][..4], "name");
        // The key itself, when asked for.
        let path = FieldPath::root().key("image").key("tag");
        let spot = locate(&[&i1, &i2, &i3], &path, true);
        assert_eq!(&first[spot.span.offset..][..spot.span.len], "tag");
    }
}
