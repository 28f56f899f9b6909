//! Release signature verification with real signatures and keys from the shared fixtures.

use ferry_release::signature::{Keyring, SignatureError};
use ferry_release::verify;
use ferry_types::Digest;

const RH_SIG: &str = "signatures/oc-mirror/internal/e2e/signatures/signature-1";
const RH_KEY: &str = "signatures/oc-mirror/tests/unit/testdata/custom-ocp-sig-key.asc";
const BUGGY_KEY: &str = "signatures/oc-mirror/tests/unit/testdata/buggy-ocp-sig-key.asc";
const CI: &str = "signatures/image/signature/fixtures";
const RH_DIGEST: &str = "sha256:0da6316466d60a3a4535d5fed3589feb0391989982fba59d47d4c729912d6363";
/// sha256 of `signature/fixtures/image.manifest.json`, which the containers/image fixtures sign.
const CI_DIGEST: &str = "sha256:20bf21ed457b390829cdbeec8795a7bea1626991fda603e0d01b4e7f60427e55";

fn read(rel: &str) -> Option<Vec<u8>> {
    Some(std::fs::read(ferry_testkit::fixture(rel)?).unwrap())
}

fn d(s: &str) -> Digest {
    Digest::parse(s).unwrap()
}

#[test]
fn real_4_15_0_signature_verifies_with_the_built_in_red_hat_keys() {
    let Some(sig) = read(RH_SIG) else { return };
    let kr = Keyring::redhat();
    assert_eq!(
        kr.fingerprints(),
        [
            "567E347AD0044ADE55BA8A5F199E2F91FD431D51",
            "B08B659EE86AF623BC90E8DB938A80CAF21541EB"
        ]
    );
    let v = verify(&kr, &sig, &d(RH_DIGEST)).unwrap();
    assert_eq!(v.digest, RH_DIGEST);
    assert_eq!(v.identity, "quay.io/openshift-release-dev/ocp-release:4.15.0-x86_64");
    assert_eq!(
        v.key, "567E347AD0044ADE55BA8A5F199E2F91FD431D51",
        "release key 2 signed it"
    );
    // The fixture key file (what OCP_SIGNATURE_VERIFICATION_PK would point at) gives the same.
    let from_file = Keyring::parse(&read(RH_KEY).unwrap(), "fixture").unwrap();
    assert_eq!(verify(&from_file, &sig, &d(RH_DIGEST)).unwrap(), v);
}

#[test]
fn wrong_digest_is_refused_naming_both() {
    let Some(sig) = read(RH_SIG) else { return };
    let other = Digest::of(b"another release");
    let e = verify(&Keyring::redhat(), &sig, &other).unwrap_err();
    assert_eq!(
        e,
        SignatureError::WrongDigest {
            expected: other.to_string(),
            signed: RH_DIGEST.into()
        }
    );
    assert!(e.to_string().contains(RH_DIGEST) && e.to_string().contains(&other.to_string()));
}

#[test]
fn containers_image_fixtures_good_and_bad() {
    let Some(key) = read(&format!("{CI}/public-key.gpg")) else {
        return;
    };
    let kr = Keyring::parse(&key, "skopeo testing key").unwrap();
    let sig = |n: &str| read(&format!("{CI}/{n}")).unwrap();
    let good = verify(&kr, &sig("image.signature"), &d(CI_DIGEST)).unwrap();
    assert_eq!(good.identity, "testing/manifest");
    assert_eq!(good.creator.as_deref(), Some("atomic "));
    assert_eq!(good.timestamp, Some(1458239713));
    let none = verify(&kr, &sig("no-optional-fields.signature"), &d(CI_DIGEST)).unwrap();
    assert_eq!((none.creator, none.timestamp), (None, None));

    match verify(&kr, &sig("expired.signature"), &d(CI_DIGEST)) {
        Err(SignatureError::Expired { expired_at }) => assert_eq!(expired_at, 1750759200, "2025-06-24T10:00:00Z"),
        other => panic!("expired: {other:?}"),
    }
    match verify(&kr, &sig("unknown-key.signature"), &d(CI_DIGEST)) {
        Err(SignatureError::UnknownKey { keyring, .. }) => assert_eq!(keyring, "skopeo testing key"),
        other => panic!("unknown key: {other:?}"),
    }
    assert!(
        matches!(
            verify(&kr, &sig("corrupt.signature"), &d(CI_DIGEST)),
            Err(SignatureError::UnknownKey { .. }) | Err(SignatureError::Malformed(_))
        ),
        "a corrupt signature never verifies"
    );
    // The Red Hat keys do not accept the skopeo test signature, and vice versa.
    assert!(matches!(
        verify(&Keyring::redhat(), &sig("image.signature"), &d(CI_DIGEST)),
        Err(SignatureError::UnknownKey { .. })
    ));
    assert!(matches!(
        verify(&kr, &read(RH_SIG).unwrap(), &d(RH_DIGEST)),
        Err(SignatureError::UnknownKey { .. })
    ));
    // Garbage is not a signed message.
    assert!(matches!(
        verify(&kr, b"hello", &d(CI_DIGEST)),
        Err(SignatureError::Malformed(_))
    ));
}

#[test]
fn buggy_key_file_is_a_clear_error() {
    let Some(k) = read(BUGGY_KEY) else { return };
    match Keyring::parse(&k, "buggy-ocp-sig-key.asc") {
        Err(e @ SignatureError::BadKeyring { .. }) => {
            assert!(e.to_string().starts_with("keyring buggy-ocp-sig-key.asc: "), "{e}")
        }
        Ok(kr) => {
            // If the damaged block still yields a key, it must not verify the real signature.
            let sig = read(RH_SIG).unwrap();
            assert!(
                verify(&kr, &sig, &d(RH_DIGEST)).is_err(),
                "a damaged key verified a signature"
            );
        }
        Err(e) => panic!("unexpected {e:?}"),
    }
    assert!(Keyring::parse(b"", "empty").is_err());
}
