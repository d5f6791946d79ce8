"""Content credentials (C2PA): a delivered video carries a signed manifest saying how it was made, bound to its bytes;
a key that is missing or not the certificate's is one line at start, never a failure after a video was paid for."""
from __future__ import annotations

import datetime
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from content.media.credentials import IPTC, ContentSigner, digital_source_type, manifest_of
from content.media.platforms import platform_spec
from content.media.preflight import failures, preflight
from core.errors import ConfigError
from core.home import Home
from core.secrets import Secrets
from core.settings import ContentCredentials
from tests.conftest import edit_json, generate_and_wait, make_clip, settings_for

NOW = datetime.datetime.now(datetime.timezone.utc)
NO_KEY_USE = dict(content_commitment=False, key_encipherment=False, data_encipherment=False, key_agreement=False,
                  encipher_only=False, decipher_only=False)


def _certificate(subject: str, key: ec.EllipticCurvePrivateKey, issuer: x509.Certificate | None,
                 issuer_key: ec.EllipticCurvePrivateKey) -> x509.Certificate:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Test Studio")])
    builder = (x509.CertificateBuilder().subject_name(name).issuer_name(issuer.subject if issuer else name)
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(NOW - datetime.timedelta(days=1)).not_valid_after(NOW + datetime.timedelta(days=30)))
    if issuer is None:  # the authority
        builder = builder.add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True).add_extension(
            x509.KeyUsage(digital_signature=False, key_cert_sign=True, crl_sign=True, **NO_KEY_USE), critical=True)
    else:  # the signer C2PA's profile asks for: an end entity that signs, for email protection
        builder = (builder.add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
                   .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=False, crl_sign=False,
                                                **NO_KEY_USE), critical=True)
                   .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False)
                   .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
                   .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()),
                                  critical=False))
    return builder.sign(issuer_key, hashes.SHA256())


def _pem_key(key: ec.EllipticCurvePrivateKey) -> str:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


@pytest.fixture(scope="module")
def identity() -> tuple[bytes, str]:
    """A certificate chain (leaf, then its authority) and the leaf's private key, as a studio would be issued."""
    authority_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    authority = _certificate("Test Authority", authority_key, None, authority_key)
    leaf = _certificate("Studio Signer", key, authority, authority_key)
    chain = b"".join(c.public_bytes(serialization.Encoding.PEM) for c in (leaf, authority))
    return chain, _pem_key(key)


def _configured(home: Home, chain: bytes) -> ContentCredentials:
    (home.root / "config" / "signing.pem").write_bytes(chain)
    edit_json(home.config_file, lambda data: data.update(content_credentials={"certificate": "config/signing.pem"}))
    return settings_for(home).app.content_credentials


async def test_a_signed_video_verifies_and_an_edit_shows(home: Home, identity: tuple[bytes, str],
                                                         tmp_path: Path) -> None:
    chain, key = identity
    signer = ContentSigner.configured(_configured(home, chain), Secrets({"C2PA_SIGNING_KEY": key}), home.root)
    assert signer is not None
    video = make_clip(tmp_path / "reel.mp4", size="360x640", seconds=2)
    unsigned = {rule.rule for rule in failures(await preflight(video, platform_spec("instagram_reels")))}
    assert await signer.sign(video, "mia_moves", IPTC + "algorithmicMedia")

    manifest = manifest_of(video)
    assert manifest is not None and manifest["validation_state"] == "Valid", manifest
    codes = {status["code"] for status in manifest["validation_status"]}
    assert codes <= {"signingCredential.untrusted"}, codes  # our test authority is no one's trust anchor
    actions = next(a["data"]["actions"] for a in manifest["assertions"] if a["label"].startswith("c2pa.actions"))
    assert actions[0]["action"] == "c2pa.created"
    assert actions[0]["digitalSourceType"] == IPTC + "algorithmicMedia"
    assert manifest["signature_info"]["common_name"] == "Studio Signer"
    signed = {rule.rule for rule in failures(await preflight(video, platform_spec("instagram_reels")))}
    assert signed == unsigned  # the manifest breaks nothing (the daemon's own Reels pass every rule signed: below)
    assert not list(tmp_path.glob(".*signing*"))

    data = bytearray(video.read_bytes())
    data[-200] ^= 0xFF  # one byte of the picture changed after signing
    video.write_bytes(bytes(data))
    edited = manifest_of(video)
    assert edited is not None and edited["validation_state"] == "Invalid"
    assert any("mismatch" in status["code"] for status in edited["validation_status"]), edited["validation_status"]


def test_how_it_was_made_follows_its_scenes() -> None:
    assert digital_source_type([]) == IPTC + "compositeWithTrainedAlgorithmicMedia"  # a provider made it whole
    assert digital_source_type([{"source": "generated"}, {"source": "ai"}]) == \
        IPTC + "compositeWithTrainedAlgorithmicMedia"
    assert digital_source_type([{"source": "generated"}, {"source": "stock"}]) == IPTC + "composite"
    assert digital_source_type([{"source": "generated"}] * 3) == IPTC + "algorithmicMedia"


def test_a_key_that_is_missing_or_not_the_certificates_is_one_line(home: Home, identity: tuple[bytes, str],
                                                                   tmp_path: Path) -> None:
    chain, key = identity
    settings = _configured(home, chain)
    with pytest.raises(ConfigError, match="C2PA_SIGNING_KEY is not set"):
        ContentSigner.configured(settings, Secrets({}), home.root)
    other = _pem_key(ec.generate_private_key(ec.SECP256R1()))
    with pytest.raises(ConfigError, match="not the key of the certificate") as refused:
        ContentSigner.configured(settings, Secrets({"C2PA_SIGNING_KEY": other}), home.root)
    assert other not in str(refused.value)
    with pytest.raises(ConfigError, match="not an unencrypted PEM private key"):
        ContentSigner.configured(settings, Secrets({"C2PA_SIGNING_KEY": "-----BEGIN garbage"}), home.root)
    key_file = tmp_path / "signing.key"
    key_file.write_text(key)
    assert ContentSigner.configured(settings, Secrets({"C2PA_SIGNING_KEY": str(key_file)}), home.root) is not None
    assert ContentSigner.configured(ContentCredentials(), Secrets({}), home.root) is None  # off by default


def test_a_certificate_that_is_not_there_is_a_config_error(home: Home, cli_in_process) -> None:
    edit_json(home.config_file, lambda data: data.update(content_credentials={"certificate": "config/none.pem"}))
    result = cli_in_process(home.root, "config", "check")
    assert result.returncode == 2
    assert "content_credentials.certificate" in result.stderr and "no certificate file" in result.stderr
    assert "Traceback" not in result.stderr


async def test_the_daemon_delivers_signed_videos(home: Home, identity: tuple[bytes, str]) -> None:
    chain, key = identity
    _configured(home, chain)
    (home.env_file).write_text(f'C2PA_SIGNING_KEY="{key}"\n')
    outcome, _ = await generate_and_wait(home, "a sunrise stretch routine", 5, Secrets.load(home.env_file))
    assert outcome.status == "done" and outcome.path is not None
    manifest = manifest_of(outcome.path)
    assert manifest is not None and manifest["validation_state"] == "Valid"
    actions = next(a["data"]["actions"] for a in manifest["assertions"] if a["label"].startswith("c2pa.actions"))
    assert actions[0]["digitalSourceType"] == IPTC + "algorithmicMedia"  # the local renderer drew every frame


def test_config_check_names_the_signing_certificate(home: Home, identity: tuple[bytes, str], cli_in_process) -> None:
    chain, key = identity
    _configured(home, chain)
    (home.env_file).write_text(f'C2PA_SIGNING_KEY="{_pem_key(ec.generate_private_key(ec.SECP256R1()))}"\n')
    refused = cli_in_process(home.root, "config", "check")
    assert refused.returncode == 2 and "not the key of the certificate" in refused.stderr
    (home.env_file).write_text(f'C2PA_SIGNING_KEY="{key}"\n')
    result = cli_in_process(home.root, "config", "check")
    assert result.returncode == 0, result.stderr
    assert "content credentials: videos signed with config/signing.pem" in result.stdout
    assert "PRIVATE KEY" not in result.stdout + result.stderr
