"""The cloud voices (issue 20) against loopback fakes of their documented APIs: the lit word starts when the engine
says the word starts, the sound written is the sound the engine timed, and every failure (a refused key, a
validation error, a 429 with Retry-After, a 5xx) is an error of its class without the key, after which the next
engine of the persona's list speaks. (What paid speech costs, and when it is bought: tests/test_voice_budget.py.)"""
from __future__ import annotations

import base64
import ctypes.util
import wave
from collections.abc import AsyncIterator
from pathlib import Path

import numpy as np
import pytest

from content.briefs.brief import Brief
from content.media import ass
from content.media.captions import speech_timeline, tokens
from content.media.fonts import font_chain
from content.media.frame import REELS
from content.media.layouts import kinetic
from content.media.voiceover import buy, narrate, ready_engines
from content.media.voices.contract import Speech, VoiceError, token_spans
from core.errors import ErrorClass
from core.font_files import DEFAULT_FONT
from core.secrets import Secrets
from core.settings import ElevenLabsVoice, OpenAIVoice, VoiceEngineName, Voiceover
from tests.fakes.speech import DROPPED, ELEVENLABS_KEY, OPENAI_KEY, FakeElevenLabs, FakeOpenAISpeech, Said

HOOK = "Water first. Then sunlight, then a walk."
BEATS = ["Coffee comes later, after the glass.", "Ten minutes outside, every morning.", "One task, written down."]
KEYS = Secrets({"ELEVENLABS_API_KEY": ELEVENLABS_KEY, "OPENAI_API_KEY": OPENAI_KEY})
espeak_installed = pytest.mark.skipif(ctypes.util.find_library("espeak-ng") is None, reason="needs espeak-ng")


@pytest.fixture
async def elevenlabs() -> AsyncIterator[FakeElevenLabs]:
    server = FakeElevenLabs()
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def openai_speech() -> AsyncIterator[FakeOpenAISpeech]:
    server = FakeOpenAISpeech()
    await server.start()
    yield server
    await server.stop()


def voiceover(engines: list[VoiceEngineName], elevenlabs: FakeElevenLabs | None = None,
              openai_speech: FakeOpenAISpeech | None = None) -> Voiceover:
    return Voiceover(enabled=True, engine=engines,
                     elevenlabs=ElevenLabsVoice(base_url=elevenlabs.url if elevenlabs else None),
                     openai=OpenAIVoice(base_url=f"{openai_speech.url}/v1" if openai_speech else None))


async def bought(texts: list[str], settings: Voiceover, workdir: Path, keys: Secrets = KEYS) -> list[Speech] | None:
    """The speech of the persona's first engine, bought, then narrated as the render narrates."""
    await buy(ready_engines(settings, "en", keys)[0], texts, workdir)
    return await narrate(texts, settings, workdir, "en", keys)


def lit_errors(texts: list[str], spoken: list[Speech], engine_starts: list[list[float]]) -> list[float]:
    """For each caption word, how far the nearest karaoke event lighting a word starts from where the engine said
    that word starts (on the Reel's clock)."""
    brief = Brief(account="t", template="default", topic="mornings", hook=texts[0], beats=texts[1:], hashtags=[],
                  cta="Follow for more", visual_prompt="kitchen", duration_s=15)
    segments = speech_timeline(brief, spoken)
    events = kinetic(segments, font_chain(DEFAULT_FONT), ass.TextLook("#ffffff", "#c1121f"), [], REELS)
    lit = [ass.centis(event.start_s) / 100 for event in events]
    return [min(abs(at - (segment.start_s + start)) for at in lit)
            for segment, starts in zip(segments, engine_starts) for start in starts]


def onsets(path: Path) -> list[float]:
    """Where the sound starts again after at least 60 ms of silence, in seconds."""
    with wave.open(str(path), "rb") as audio:
        rate = audio.getframerate()
        samples = np.frombuffer(audio.readframes(audio.getnframes()), "<i2").astype(np.float32) / 32768
    hop = rate // 1000
    loud = np.array([np.abs(samples[i:i + hop]).max() for i in range(0, len(samples) - hop, hop)]) > 0.05
    return [i / 1000 for i in range(60, len(loud)) if loud[i] and not loud[i - 60:i].any()]


def word_starts_of(text: str, said: Said) -> list[float]:
    return [said.starts[at] for at, _ in token_spans(text)]


async def test_elevenlabs_character_timings_light_each_word_and_describe_its_sound(elevenlabs: FakeElevenLabs,
                                                                                 tmp_path: Path) -> None:
    """Each lit word starts within 150 ms (50 ms at the median) of the first character ElevenLabs timed for it, and
    each word heard after a pause in the WAV written begins where the alignment says (within 5 ms)."""
    texts = [HOOK, *BEATS]
    spoken = await bought(texts, voiceover(["elevenlabs", "espeak"], elevenlabs), tmp_path)
    assert spoken is not None and len(elevenlabs.calls) == 4
    call = elevenlabs.calls[0]
    assert call["key"] == ELEVENLABS_KEY and call["query"] == {"output_format": "pcm_24000"}
    assert call["body"] == {"text": HOOK, "model_id": "eleven_multilingual_v2"}
    engine_starts = [word_starts_of(text, elevenlabs.said[text]) for text in texts]
    errors = lit_errors(texts, spoken, engine_starts)
    assert len(errors) == sum(len(tokens(text)) for text in texts)
    assert np.median(errors) <= 0.05 and max(errors) <= 0.15, (np.median(errors), max(errors))
    for text, speech in zip(texts, spoken):
        said = elevenlabs.said[text]
        assert abs(speech.duration_s - said.ends[-1]) < 0.002
        after_pause = [said.starts[at] for at, _ in token_spans(text)[1:]]
        for onset in onsets(speech.path):
            assert min(abs(onset - start) for start in after_pause) <= 0.005, (onset, after_pause)


async def test_openai_speech_is_timed_by_its_own_transcription(tmp_path: Path) -> None:
    """Through the official SDK: the speech as PCM, then whisper-1's words (verbose_json, word timestamps) found
    again in the caption; each lit word within 150 ms of the transcription's start for it (50 ms at the median);
    a word transcribed otherwise ("10" for "Ten") lights no later than the word after it."""
    server = FakeOpenAISpeech(misheard={"Ten": "10"})
    await server.start()
    try:
        texts = [HOOK, *BEATS]
        spoken = await bought(texts, voiceover(["openai"], openai_speech=server), tmp_path)
    finally:
        await server.stop()
    assert spoken is not None
    assert server.speech_calls[0] == {"input": HOOK, "model": "tts-1", "voice": "alloy", "response_format": "pcm"}
    call = server.transcription_calls[0]
    assert call["model"] == ["whisper-1"] and call["response_format"] == ["verbose_json"]
    assert call["timestamp_granularities[]"] == ["word"] and call["language"] == ["en"]
    heard = [[word["start"] for word in server.heard[text]] for text in texts]
    errors = lit_errors(texts, spoken, heard)
    assert np.median(errors) <= 0.05 and max(errors) <= 0.15, (np.median(errors), max(errors))
    ten = spoken[2].word_starts
    assert ten[0] <= ten[1] and ten == tuple(sorted(ten))


@espeak_installed
@pytest.mark.parametrize(("failures", "calls", "says", "error_class"), [
    ([401], 1, "refused the key", ErrorClass.AUTH),
    ([422], 1, "Field required", ErrorClass.INVALID_REQUEST),
    ([429], 1, "unavailable (HTTP 429", ErrorClass.RATE_LIMIT),  # Retry-After 120 s: longer than a Reel waits
    ([500, 502, 503], 3, "unavailable (HTTP 503", ErrorClass.TEMPORARY),
])
async def test_an_elevenlabs_failure_is_classified_unbilled_and_espeak_speaks(
        failures: list[int], calls: int, says: str, error_class: ErrorClass, tmp_path: Path) -> None:
    server = FakeElevenLabs(failures=[status for status in failures if status not in (401, 422)],
                            retry_after="120")
    await server.start()
    try:
        keys = Secrets({"ELEVENLABS_API_KEY": "wrong-key-0000"}) if 401 in failures else KEYS
        texts = [""] if 422 in failures else [HOOK]
        settings = voiceover(["elevenlabs", "espeak"], server)
        with pytest.raises(VoiceError) as failed:
            await buy(ready_engines(settings, "en", keys)[0], texts, tmp_path)
        spoken = await narrate(texts, settings, tmp_path, "en", keys)
    finally:
        await server.stop()
    assert says in str(failed.value) and failed.value.error_class == error_class and not failed.value.billed
    assert ELEVENLABS_KEY not in str(failed.value) and "wrong-key-0000" not in str(failed.value)
    assert len(server.calls) == calls
    assert spoken is not None and spoken[0].path.name.startswith("espeak-")


async def test_a_429_is_asked_again_after_its_retry_after(tmp_path: Path) -> None:
    """ElevenLabs and OpenAI (through its SDK) each wait out a short Retry-After and speak on the second call."""
    eleven, openai_server = FakeElevenLabs(failures=[429]), FakeOpenAISpeech(failures=[429])
    for server in (eleven, openai_server):
        await server.start()
    try:
        by_eleven = await bought([HOOK], voiceover(["elevenlabs"], eleven), tmp_path / "e")
        by_openai = await bought([HOOK], voiceover(["openai"], openai_speech=openai_server), tmp_path / "o")
    finally:
        for server in (eleven, openai_server):
            await server.stop()
    assert by_eleven is not None and by_openai is not None
    assert len(eleven.calls) == 2 and len(openai_server.speech_calls) == 2


async def test_elevenlabs_own_sdk_reads_the_fake_as_it_reads_the_service(elevenlabs: FakeElevenLabs) -> None:
    """The vendor's SDK (elevenlabs on PyPI) parses the fake's answers: the sound and character timings of a
    success, and a refused key as an ApiError with the documented `detail`."""
    from elevenlabs.client import AsyncElevenLabs
    from elevenlabs.core.api_error import ApiError

    client = AsyncElevenLabs(api_key=ELEVENLABS_KEY, base_url=elevenlabs.url)
    answer = await client.text_to_speech.convert_with_timestamps(
        ElevenLabsVoice().voice_id, text=HOOK, model_id="eleven_multilingual_v2", output_format="pcm_24000")
    said = elevenlabs.said[HOOK]
    assert base64.b64decode(answer.audio_base_64) == said.pcm
    assert answer.alignment is not None and "".join(answer.alignment.characters) == HOOK
    assert answer.alignment.character_start_times_seconds == said.starts
    with pytest.raises(ApiError) as refused:
        await AsyncElevenLabs(api_key="wrong-key", base_url=elevenlabs.url).text_to_speech.convert_with_timestamps(
            ElevenLabsVoice().voice_id, text=HOOK, request_options={"max_retries": 0})
    assert refused.value.status_code == 401 and refused.value.body["detail"]["status"] == "invalid_api_key"


async def test_a_call_whose_answer_was_lost_is_billed_and_never_sent_again(tmp_path: Path) -> None:
    """The connection dropped after the speech was made: paid for, so neither our client nor the SDK (whose own
    retries would send it twice more) asks again; the next engine speaks."""
    eleven, openai_server = FakeElevenLabs(failures=[DROPPED]), FakeOpenAISpeech(failures=[DROPPED])
    for server in (eleven, openai_server):
        await server.start()
    try:
        failures = []
        for settings in (voiceover(["elevenlabs"], eleven), voiceover(["openai"], openai_speech=openai_server)):
            with pytest.raises(VoiceError) as failed:
                await buy(ready_engines(settings, "en", KEYS)[0], [HOOK], tmp_path)
            failures.append(failed.value)
    finally:
        for server in (eleven, openai_server):
            await server.stop()
    assert [failure.billed for failure in failures] == [True, True]
    assert [str(failure) for failure in failures] == ["ElevenLabs did not answer (ServerDisconnectedError)",
                                                      "OpenAI did not answer (APIConnectionError)"]
    assert len(eleven.calls) == 1 and len(openai_server.speech_calls) == 1


async def test_openai_refusing_the_key_is_an_auth_error_without_the_key(openai_speech: FakeOpenAISpeech,
                                                                      tmp_path: Path) -> None:
    keys = Secrets({"OPENAI_API_KEY": "sk-wrong-key-9999"})
    engine = ready_engines(voiceover(["openai"], openai_speech=openai_speech), "en", keys)[0]
    with pytest.raises(VoiceError) as failed:
        await buy(engine, [HOOK], tmp_path)
    assert str(failed.value) == "OpenAI refused the key (HTTP 401)" and failed.value.error_class == ErrorClass.AUTH
    assert not failed.value.billed and len(openai_speech.speech_calls) == 0


async def test_a_transcription_that_fails_after_the_speech_was_made_counts_as_billed(tmp_path: Path) -> None:
    server = FakeOpenAISpeech(transcription_failures=[503, 503, 503])  # asked three times
    await server.start()
    try:
        engine = ready_engines(voiceover(["openai"], openai_speech=server), "en", KEYS)[0]
        with pytest.raises(VoiceError) as failed:
            await buy(engine, [HOOK], tmp_path)
    finally:
        await server.stop()
    assert failed.value.billed and len(server.speech_calls) == 1


@espeak_installed
async def test_a_cloud_engine_without_its_key_is_skipped_in_one_line(elevenlabs: FakeElevenLabs, tmp_path: Path,
                                                                    caplog_loguru) -> None:
    spoken = await narrate([HOOK], voiceover(["elevenlabs", "openai", "espeak"], elevenlabs), tmp_path, "en",
                           Secrets({}))
    assert spoken is not None and spoken[0].path.name.startswith("espeak-") and not elevenlabs.calls
    skipped = [line for line in caplog_loguru.lines if "skipped" in line]
    assert skipped == ["voice engine elevenlabs skipped: it needs ELEVENLABS_API_KEY",
                       "voice engine openai skipped: it needs OPENAI_API_KEY"]


def test_a_voiceover_switched_off_has_no_engine_to_buy_from() -> None:
    assert ready_engines(Voiceover(enabled=False, engine=["elevenlabs"]), "en", KEYS) == []
    assert [engine.name for engine in ready_engines(Voiceover(enabled=True, engine=["elevenlabs"]), "en", KEYS)] == [
        "elevenlabs"]


async def test_paid_speech_is_kept_and_never_paid_twice(elevenlabs: FakeElevenLabs, tmp_path: Path,
                                                       caplog_loguru) -> None:
    """Bought again in the same workdir (a run after a crash), the speech is read back; another model is new speech;
    narrating never buys: a paid engine's speech not bought gives way to the next engine."""
    settings = voiceover(["elevenlabs", "espeak"], elevenlabs)
    first = await bought([HOOK, *BEATS], settings, tmp_path)
    again = await bought([HOOK, *BEATS], settings, tmp_path)
    assert first == again and len(elevenlabs.calls) == 4
    other = settings.model_copy(update={"elevenlabs": ElevenLabsVoice(base_url=elevenlabs.url,
                                                                      model_id="eleven_flash_v2_5")})
    spoken = await narrate([HOOK], other, tmp_path, "en", KEYS)
    assert len(elevenlabs.calls) == 4 and spoken is not None and spoken[0].path.name.startswith("espeak-")
    assert "voice engine elevenlabs skipped: its speech was not bought for this Reel" in caplog_loguru.text
