use super::*;

fn d(c: char) -> String {
    format!("sha256:{}", c.to_string().repeat(64))
}

fn top(name: &str, path: &str, tag: &str, id: &str, children: &[&str]) -> Association {
    Association {
        name: name.into(),
        path: path.into(),
        id: id.into(),
        tag_symlink: tag.into(),
        kind: ImageKind::Generic,
        manifest_digests: children.iter().map(|c| c.to_string()).collect(),
        layer_digests: if children.is_empty() { vec![d('f')] } else { vec![] },
    }
}

fn child(path: &str, id: &str) -> Association {
    Association {
        name: id.into(),
        path: path.into(),
        id: id.into(),
        tag_symlink: String::new(),
        kind: ImageKind::Generic,
        manifest_digests: vec![],
        layer_digests: vec![d('e')],
    }
}

/// Mirror-to-mirror paths are `registry/repository`.
fn m2m(a: &Association) -> Option<String> {
    a.path.strip_prefix("mirror.example:5000/").map(str::to_string)
}

#[test]
fn dropped_images_and_their_children_are_candidates_children_separately() {
    let (a, b, l, c1, c2) = (d('a'), d('b'), d('1'), d('2'), d('3'));
    let past = vec![
        top("src.example/app:1", "mirror.example:5000/ns/app", "1", &a, &[]),
        top(
            "src.example/multi:1",
            "mirror.example:5000/ns/multi",
            "1",
            &l,
            &[&c1, &c2],
        ),
        child("mirror.example:5000/ns/multi", &c1),
        child("mirror.example:5000/ns/multi", &c2),
        top("src.example/app:2", "mirror.example:5000/ns/app", "2", &b, &[]),
    ];
    let next = vec![top("src.example/app:2", "mirror.example:5000/ns/app", "2", &b, &[])];
    let plan = PrunePlan::compute("mirror.example:5000", &past, &needed_pairs(&next, &m2m), &m2m);
    let images: Vec<_> = plan
        .images
        .iter()
        .map(|c| (c.repository.as_str(), c.digest.as_str()))
        .collect();
    assert_eq!(images, vec![("ns/app", a.as_str()), ("ns/multi", l.as_str())]);
    let children: Vec<_> = plan.children.iter().map(|c| c.digest.as_str()).collect();
    assert_eq!(children, vec![c1.as_str(), c2.as_str()]);
    assert!(plan.children.iter().all(|c| c.child && c.repository == "ns/multi"));
    assert_eq!(plan.len(), 4);
    // Lists go before their children.
    let order: Vec<_> = plan.in_deletion_order().map(|c| c.digest.clone()).collect();
    assert_eq!(order, vec![a.clone(), l.clone(), c1.clone(), c2.clone()]);
    assert_eq!(plan.associations().len(), 4);
}

#[test]
fn an_image_the_new_set_keeps_is_never_a_candidate_even_when_it_shares_a_digest() {
    let (a, l, c1) = (d('a'), d('1'), d('2'));
    let past = vec![
        // Dropped from the config: tag "old" ...
        top("src.example/app:old", "mirror.example:5000/ns/app", "old", &a, &[]),
        // ... but the same digest stays wanted under "new" in the same repository.
        top("src.example/app:new", "mirror.example:5000/ns/app", "new", &a, &[]),
        // A dropped list whose child the new set still needs (as an image of its own).
        top("src.example/multi:1", "mirror.example:5000/ns/multi", "1", &l, &[&c1]),
        child("mirror.example:5000/ns/multi", &c1),
        // The same digest in another repository is another manifest: that one goes.
        top("src.example/copy:1", "mirror.example:5000/ns/copy", "1", &a, &[]),
    ];
    let next = vec![
        top("src.example/app:new", "mirror.example:5000/ns/app", "new", &a, &[]),
        top("src.example/multi@child", "mirror.example:5000/ns/multi", "", &c1, &[]),
    ];
    let plan = PrunePlan::compute("mirror.example:5000", &past, &needed_pairs(&next, &m2m), &m2m);
    let pairs = plan.pairs();
    assert!(!pairs.contains(&("ns/app".into(), a.clone())), "{pairs:?}");
    assert!(!pairs.contains(&("ns/multi".into(), c1.clone())), "{pairs:?}");
    assert_eq!(
        pairs,
        BTreeSet::from([("ns/copy".to_string(), a.clone()), ("ns/multi".to_string(), l.clone())])
    );
    assert!(plan.children.is_empty());
}

#[test]
fn children_named_only_by_a_kept_list_are_protected() {
    // The new set's list names a child the new metadata has no association for (an older
    // writer): the list's manifestDigests protect it.
    let (l, c1) = (d('1'), d('2'));
    let past = vec![child("mirror.example:5000/ns/multi", &c1)];
    let next = vec![top(
        "src.example/multi:2",
        "mirror.example:5000/ns/multi",
        "2",
        &l,
        &[&c1],
    )];
    let plan = PrunePlan::compute("mirror.example:5000", &past, &needed_pairs(&next, &m2m), &m2m);
    assert!(plan.is_empty(), "{plan:?}");
}

#[test]
fn same_set_prunes_nothing_and_other_targets_are_ignored() {
    let a = d('a');
    let past = vec![
        top("src.example/app:1", "mirror.example:5000/ns/app", "1", &a, &[]),
        top("src.example/app:1", "other.example/ns/app", "1", &d('b'), &[]),
        top("src.example/tagonly", "mirror.example:5000/ns/app", "x", "", &[]),
    ];
    let next = vec![past[0].clone()];
    let plan = PrunePlan::compute("mirror.example:5000", &past, &needed_pairs(&next, &m2m), &m2m);
    assert!(plan.is_empty(), "{plan:?}");
}

#[test]
fn pruning_plan_json_has_oc_mirrors_shape() {
    let (a, b, c1) = (d('a'), d('b'), d('2'));
    let past = vec![
        top("src.example/z:1", "mirror.example:5000/ns/z", "1", &b, &[&c1]),
        child("mirror.example:5000/ns/z", &c1),
        top("src.example/app:1", "mirror.example:5000/ns/app", "1", &a, &[]),
    ];
    let plan = PrunePlan::compute("mirror.example:5000", &past, &BTreeSet::new(), &m2m);
    let want = format!(
        "{{\n \"registry\": \"mirror.example:5000\",\n \"repositories\": [\n  {{\n   \"name\": \"ns/app\",\n   \"manifests\": [\n    \"{a}\"\n   ]\n  }},\n  {{\n   \"name\": \"ns/z\",\n   \"manifests\": [\n    \"{c1}\",\n    \"{b}\"\n   ]\n  }}\n ]\n}}"
    );
    assert_eq!(String::from_utf8(plan.to_json()).unwrap(), want);
    let lines = plan.lines().join("\n");
    assert!(
        lines.contains(&format!(
            "mirror.example:5000/ns/app@{a} (tag 1)  from src.example/app:1"
        )),
        "{lines}"
    );
    assert!(lines.contains("child manifests of lists (1):"), "{lines}");
}

#[test]
fn associations_left_keeps_what_was_not_deleted() {
    let (a, b) = (d('a'), d('b'));
    let past = vec![
        top("src.example/app:1", "mirror.example:5000/ns/app", "1", &a, &[]),
        top("src.example/app:2", "mirror.example:5000/ns/app", "2", &b, &[]),
    ];
    let plan = PrunePlan::compute("mirror.example:5000", &past, &BTreeSet::new(), &m2m);
    let deleted = BTreeSet::from([("ns/app".to_string(), a.clone())]);
    let left = plan.associations_left(&deleted, &m2m);
    assert_eq!(left, vec![past[1].clone()]);
}
