"""The benchmark harness's own logic: metric plumbing checked against independent references, the
event agreement, derived configs, the report tables and the README generator. No timing is asserted."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import tomllib

from edgewatch.bench import endtoend, readme, report, timing, tracker
from edgewatch.bench.cli import _beside, targets
from edgewatch.config import load_config
from edgewatch.paths import REPO_ROOT


def test_spread_matches_numpy_percentiles() -> None:
    values = list(range(1, 101))
    s = timing.spread(values)
    assert s["median_ms"] == pytest.approx(np.median(values)) and s["runs"] == 100
    assert (s["p5_ms"], s["p25_ms"], s["p75_ms"], s["p95_ms"]) == pytest.approx(np.percentile(values, [5, 25, 75, 95]))


def test_interleaved_warms_every_job_up_then_times_them_in_turn_round_by_round() -> None:
    calls: list[str] = []
    jobs = {name: timing.Job(lambda name=name: calls.append(name), runs, warmup)
            for name, runs, warmup in (("a", 4, 1), ("b", 2, 2), ("c", 3, 0))}
    spreads = timing.interleaved(jobs, rounds=2)
    assert calls == ["a", "b", "b"] + ["a", "a", "b", "c", "c"] + ["a", "a", "b", "c"]
    assert {k: v["runs"] for k, v in spreads.items()} == {"a": 4, "b": 2, "c": 3}


def test_a_schedule_times_each_batch_at_every_step_after_its_section_then_tops_its_runs_up() -> None:
    calls: list[str] = []
    done: dict[str, dict] = {}
    schedule = timing.Schedule()
    schedule.tick()  # nothing added yet: no call
    # section 1 adds "a" (3 timed calls, no warm-up); two steps; section 2 adds "b" (5 calls, 1 warm-up); one more step
    schedule.add({"a": timing.Job(lambda: calls.append("a"), 3, 0)}, done.update)
    schedule.tick()
    schedule.tick()
    calls.append("|")
    schedule.add({"b": timing.Job(lambda: calls.append("b"), 5, 1)}, done.update)
    schedule.tick()
    calls.append("|")
    assert not done and schedule.pending == 2  # nothing handed over before the run's end
    schedule.finish()
    # at each step, every job added so far makes an untimed call then a timed one: "a" made its 3 timed calls
    # at its 3 steps, nothing left for the finish; "b" (warmed up when added) 1 of its 5, the other 4 at the
    # finish, over 5 rounds
    assert calls == ["a"] * 4 + ["|", "b", "a", "a", "b", "b", "|", "b", "b", "b", "b"]
    assert {k: v["runs"] for k, v in done.items()} == {"a": 3, "b": 5} and schedule.pending == 0
    spaced = timing.Schedule(spacing_s=3600)
    spaced.add({"c": timing.Job(lambda: calls.append("c"), 1, 0)}, done.update)
    spaced.tick()
    spaced.tick()  # within the hour of the last: skipped
    assert calls[-2:] == ["c", "c"] and calls[-3] != "c"
    for late in (schedule.tick, schedule.finish):
        with pytest.raises(ValueError, match="schedule has finished"):
            late()


def event(frame: int, box: list[float], behaviour: str = "walking", stream: int = 0, track: int = 1) -> dict:
    return {"stream": stream, "frame": frame, "track_id": track, "bbox": box, "behaviour": behaviour}


def test_a_paired_ratio_is_the_median_of_each_rounds_own_ratio_not_the_ratio_of_the_medians() -> None:
    # a slow second round falls on both of its rates; the medians of the rates come from different rounds
    detector, graph = [100.0, 60.0, 80.0], [95.0, 50.0, 90.0]
    assert endtoend.paired_ratio(detector, graph) == pytest.approx(100 / 95)  # ratios 1.053, 1.2, 0.889
    assert endtoend.paired_ratio([2.0, 3.0], [1.0, 1.0]) == pytest.approx(2.5)  # an even count: the mean of the middle two
    with pytest.raises(ValueError):
        endtoend.paired_ratio([1.0, 2.0], [1.0])


def test_the_detector_rate_around_the_graph_is_all_its_frames_over_all_its_time() -> None:
    # 150 frames in 3 s before the graph, 150 in 1.5 s after: 300 frames in 4.5 s, not the mean of the two rates
    assert endtoend.combined_fps([(150, 50.0), (150, 100.0)]) == pytest.approx(300 / 4.5)
    assert endtoend.combined_fps([(100, 80.0)]) == pytest.approx(80.0)


def test_event_agreement_matches_by_behaviour_time_and_overlap_not_by_track_id() -> None:
    box = [100.0, 100.0, 140.0, 200.0]
    reference = [event(10, box), event(50, box, "standing"), event(90, box, "running")]
    same_but_renumbered = [dict(e, track_id=7) for e in reference]
    assert endtoend.event_agreement(reference, same_but_renumbered)["f1"] == 1.0
    other = [
        event(13, [102.0, 101.0, 142.0, 203.0]),  # 3 frames later, IoU ~0.9: a match
        event(50, box, "walking"),  # another behaviour: no match
        event(90, [300.0, 100.0, 340.0, 200.0], "running"),  # elsewhere in the frame: no match
        event(90, box, "running", stream=1),  # another stream: no match
    ]
    a = endtoend.event_agreement(reference, other)
    assert (a["matched"], a["precision"], a["recall"]) == (1, 0.25, pytest.approx(1 / 3, abs=1e-4))
    far = [event(10 + endtoend.FRAME_TOLERANCE + 1, box)]
    assert endtoend.event_agreement(reference[:1], far)["matched"] == 0
    assert endtoend.event_agreement([], [])["f1"] == 1.0  # nothing to disagree about


def test_only_behaviour_events_are_compared(tmp_path: Path) -> None:
    lines = [{"type": "zone_enter", "stream": 0, "frame": 3, "zone": "a"}, event(5, [0.0, 0.0, 9.0, 9.0]),
             {**event(6, [0.0, 0.0, 9.0, 9.0]), "type": "behaviour"}]
    (tmp_path / "e.jsonl").write_text("".join(json.dumps(e) + "\n" for e in lines))
    assert [e["frame"] for e in endtoend.behaviour_events(tmp_path / "e.jsonl")] == [5, 6]


def test_event_agreement_matches_one_to_one() -> None:
    box = [0.0, 0.0, 10.0, 10.0]
    a = endtoend.event_agreement([event(5, box)], [event(5, box), event(6, box)])
    assert a["matched"] == 1 and a["precision"] == 0.5 and a["recall"] == 1.0


def test_derived_config_loads_with_absolute_paths_and_the_changes(tmp_path: Path) -> None:
    base = REPO_ROOT / "configs" / "demo.txt"
    changes = {**endtoend.streams_changes(base, 2), **endtoend.run_outputs(tmp_path, "x", video=False),
               "application": {"max-frames": "7"}, "temporal": {"enable": "0"}}
    path = endtoend.derive_config(base, tmp_path / "sub" / "derived.txt", changes)
    text = path.read_text()
    assert "../models" not in text and str(REPO_ROOT / "models" / "sample" / "detector.onnx") in text
    config = load_config(path)
    assert [s.uri for s in config.sources] == [str(Path(s.uri)) for s in config.sources] and len(config.sources) == 2
    assert config.batch_size == 2 and config.application.max_frames == 7 and not config.temporal.enable
    assert [s.type for s in config.sinks] == ["fake"] and config.events.output_file == tmp_path / "x_events.jsonl"
    assert config.sources[0].scene is not None and config.sources[1].scene is None  # the campus scene stays on vtest


def seq(rows: list[tuple[int, int, float]]) -> tracker.Sequence:
    """frame, id, x -> a MOT sequence of 20x40 boxes."""
    out: dict[int, tuple[list[int], list[list[float]]]] = {}
    for f, i, x in rows:
        ids, boxes = out.setdefault(f, ([], []))
        ids.append(i)
        boxes.append([x, 0.0, x + 20.0, 40.0])
    return {f: (np.array(ids), np.array(boxes)) for f, (ids, boxes) in out.items()}


def test_trackeval_scores_of_hand_made_cases() -> None:
    gt = seq([(f, 1, 10.0 * f) for f in range(1, 11)] + [(f, 2, 300.0) for f in range(1, 11)])
    perfect = tracker.trackeval_scores(gt, gt)
    assert (perfect["mota"], perfect["idf1"], perfect["hota"], perfect["id_switches"]) == (1.0, 1.0, 1.0, 0)
    # the hypothesis for object 1 changes id half way: one ID switch, MOTA loses 1 of 20 boxes
    switched = seq([(f, 5 if f <= 5 else 6, 10.0 * f) for f in range(1, 11)] + [(f, 9, 300.0) for f in range(1, 11)])
    s = tracker.trackeval_scores(gt, switched)
    assert s["id_switches"] == 1 and s["mota"] == pytest.approx(1 - 1 / 20) and s["idf1"] < 1.0


def test_trackeval_agrees_with_motmetrics_on_the_published_tud_tracker() -> None:
    """The independent reference: motmetrics' MOTA / IDF1 of the real TUD-Campus tracker output."""
    from edgewatch.samples.fetch import MOT_TRACKS, ensure_assets

    gt_path, test_path = ensure_assets(MOT_TRACKS["TUD-Campus"])
    gt, hyp = tracker.read_mot(gt_path), tracker.read_mot(test_path)
    ours, theirs = tracker.trackeval_scores(gt, hyp), tracker.motmetrics_scores(gt, hyp)
    assert ours["mota"] == pytest.approx(theirs["mota"], abs=1e-4) and ours["idf1"] == pytest.approx(theirs["idf1"], abs=1e-4)
    assert round(theirs["mota"], 3) == tracker.PUBLISHED_MOTA["TUD-Campus"]  # motmetrics' published value


def test_our_tracker_on_the_published_tud_boxes_scores_like_the_published_tracker() -> None:
    """The published tracker's boxes, ids removed, through our ByteTracker at the sequence's real time
    stamps: motmetrics (the independent scorer) must find a MOTA near the published tracker's own."""
    from edgewatch.config import TrackerConfig
    from edgewatch.samples.fetch import MOT_TRACKS, ensure_assets

    gt_path, test_path = ensure_assets(MOT_TRACKS["TUD-Campus"])
    gt, reference = tracker.read_mot(gt_path), tracker.read_mot(test_path)
    hyp = tracker.track(tracker.without_ids(reference), range(min(gt), max(gt) + 1), TrackerConfig())
    assert len({i for ids, _ in hyp.values() for i in ids}) > 1
    assert tracker.motmetrics_scores(gt, hyp)["mota"] > tracker.PUBLISHED_MOTA["TUD-Campus"] - 0.1


def test_tensorrt_rows_look_for_the_engines_make_engines_builds_under_nvinfers_names(tmp_path: Path) -> None:
    from edgewatch.bench.runtimes import Runtime, engine_lookup, exports, row_model

    cfg = load_config(REPO_ROOT / "configs" / "demo.txt")
    engine = engine_lookup(cfg, 10)
    assert engine("detector", "fp16").name == "detector.onnx_b1_gpu0_fp16.engine"  # FP16 by the builder flag
    assert engine("detector", "int8").name == engine("detector", "int8_trt").name == "detector_int8_trt.onnx_b1_gpu0_int8.engine"
    assert engine_lookup(cfg, 11)("detector", "fp16").name == "detector_fp16.onnx_b1_gpu0_fp16.engine"  # strongly typed
    assert engine("temporal", "fp32").parent == cfg.temporal.onnx_file.parent
    models = exports(cfg.detector.onnx_file.parent, "detector")
    runtime = Runtime("tensorrt", None, None, engine)
    assert row_model(runtime, models, "fp32", "detector") == (None, "detector.onnx_b1_gpu0_fp32.engine not found")
    assert "the int8 row" in str(row_model(runtime, models, "int8_trt", "detector")[1])
    onnx = Runtime("onnxruntime-cpu", None, None)
    assert row_model(onnx, models, "int8_trt", "detector") == (models["int8_trt"], None)
    assert row_model(onnx, {}, "fp16", "detector") == (None, "no fp16 export of the detector model")


def minimal_report() -> dict:
    latency = timing.spread([1.0, 2.0, 3.0])
    det_row = {"runtime": "onnxruntime-cpu", "precision": "fp32", "status": "ok", "size_mb": 10.6, "threads": 2,
               "load_s": 0.1, "inference_batch1": latency, "batch1": latency, "per_image_batch_n_ms": 1.5,
               "throughput_fps": 600.0, "batch_n": 4, "mAP50_95": 0.25, "mAP50": 0.4, "fidelity_mAP50_95": 1.0,
               "by_size": {"small": {"mAP50_95": 0.1}, "medium": {"mAP50_95": 0.3}, "large": {"mAP50_95": None}}}
    return {
        "run": {"command": "edgewatch bench -c x", "quick": True, "wall_s": 12.0, "skipped": {"tracker": "not asked for"},
                "load_average_1min": {"start": 0.1, "end": 1.9}},
        "machine": {"cpu": "CPU", "cores": 2, "memory_gib": 24.0, "os": "Debian"},
        "versions": {k: "1" for k in ("python", "onnxruntime", "numpy", "opencv-python-headless", "gstreamer", "torch")},
        "git": {"commit": "abc", "dirty": False},
        "detector": {"rows": [det_row, {"runtime": "tensorrt", "precision": "fp32", "status": "skipped", "reason": "no tensorrt"}],
                     "sweep_skipped": "no weights"},
        "end_to_end": {"graph_vs_detector": {
            "frames": 300, "batch_size": 1, "threads": 2, "schedule": {"parallel_batches": 2, "threads_per_inference": 1},
            "detector_fps": 44.0, "detector_same_schedule_fps": 60.0, "graph_fps": 40.0, "overhead_pct": 10.0,
            "overhead_vs_same_schedule_pct": 50.0, "target_pct": 10.0, "detector_fps_rounds": [44.0],
            "detector_same_schedule_fps_rounds": [60.0], "graph_fps_rounds": [40.0]}},
        "ultralytics": {"rows": [{"comparison": "track, video written", "ratio": 2.0},
                                 {"comparison": "track, no video", "ratio": 1.6},
                                 {"comparison": "track, no video, the config's model", "ratio": 1.2, "same_input": False},
                                 {"comparison": "predict (decode + detect)", "ratio": 0.9}]},
    }


def test_report_tables_render_rows_skips_and_missing_sections() -> None:
    r = minimal_report()
    r["detector"]["rows"].insert(1, {**r["detector"]["rows"][0], "threads": 1, "side_by_side_fps": 123.4})
    table = report.render("detector", r)
    assert "| onnxruntime-cpu | fp32 | ok | 10.6 | 2 (all) | 0.2500 |" in table
    assert "fps, 2 frames at once (1 thread each)" in table and "| 600.0 | 123.4 | 0.10 |" in table
    del r["detector"]["rows"][1]  # a report from before that column: no column of dashes
    assert "frames at once" not in report.render("detector", r)
    assert "skipped: no tensorrt" in table and "0.100 / 0.300 / -" in table
    assert "not asked for" in report.render("tracker", r)
    assert "skipped: no weights" in report.render("sweep", r)
    graph = report.render("graph", r)
    assert "+10.0% (target <= +10%: met)" in graph and "2 inferences at once, 1 thread(s) each | 60.0 | 40.0 | +50.0%" in graph
    assert "the median of each round's own ratio" in graph
    # the least track row at ultralytics' own network input (the row on the config's model does not count)
    assert targets(r) == {"graph_overhead_pct": {"value": 10.0, "target": "<= 10", "met": True},
                          "ultralytics_track_ratio": {"value": 1.6, "target": ">= 1.5", "met": True}}


def test_behaviour_share_reads_the_detector_timed_in_the_behaviour_rounds_when_there() -> None:
    r = minimal_report()
    r["detector"]["rows"][0] = {**r["detector"]["rows"][0], "threads": 1, "inference_batch1": {"median_ms": 10.0}}
    r["behaviour"] = {"rows": [{"status": "ok", "precision": "fp32", "tracks64": {"median_ms": 1.2}}]}
    assert targets(r)["behaviour_share_of_detector"] == {"value": 0.12, "target": "<= 0.1", "met": False}
    r["behaviour"]["detector_inference_1_thread"] = {"median_ms": 16.0}
    assert targets(r)["behaviour_share_of_detector"] == {"value": 0.075, "target": "<= 0.1", "met": True}


def test_readme_blocks_are_regenerated_and_the_rest_left_alone() -> None:
    r = minimal_report()
    text = "intro\n<!-- bench:graph -->\nold typed figure\n<!-- /bench:graph -->\noutro <!-- bench:x --> stays\n"
    new = readme.regenerate(text, r)
    assert new.startswith("intro\n<!-- bench:graph -->\n| detector alone |") and "old typed figure" not in new
    assert new.endswith("<!-- /bench:graph -->\noutro <!-- bench:x --> stays\n")
    assert readme.regenerate(new, r) == new  # idempotent


def test_readme_check_fails_when_the_readme_is_stale(tmp_path: Path) -> None:
    (tmp_path / "report.json").write_text(json.dumps(minimal_report()))
    (tmp_path / "README.md").write_text("<!-- bench:graph -->\nstale\n<!-- /bench:graph -->\n")
    args = ["--report", str(tmp_path / "report.json"), "--readme", str(tmp_path / "README.md")]
    assert readme.main([*args, "--check"]) == 1
    assert readme.main(args) == 0 and readme.main([*args, "--check"]) == 0


def test_committed_readme_matches_the_committed_report() -> None:
    """Every generated README table is what docs/bench/report.json renders to (none typed by hand)."""
    assert readme.main(["--check"]) == 0


def test_fp32_stem_of_an_export() -> None:
    assert _beside(Path("m/detector_int8.onnx"), ".pt") == Path("m/detector.pt")
    assert _beside(Path("m/behaviour.onnx"), "").name == "behaviour"


def test_ultralytics_environment_pins_come_from_the_bench_extra() -> None:
    from edgewatch.samples.student import TRAIN_REQUIREMENTS

    extras = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    assert TRAIN_REQUIREMENTS == tuple(extras["bench"])
    assert {r.split("==")[0] for r in TRAIN_REQUIREMENTS} >= {"torch", "torchvision", "ultralytics", "lap"}


def test_bench_rejects_an_unknown_section_in_one_line(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "edgewatch.cli", "bench", "-c", str(REPO_ROOT / "configs" / "demo.txt"),
                           "--out", str(tmp_path), "--only", "detector,speed"], capture_output=True, text=True, check=False)
    assert done.returncode == 2
    expected = ("edgewatch: error: --only: unknown sections ['speed'] "
                "(choose from detector, behaviour, tracker, analytics, end_to_end, ultralytics)")
    assert done.stderr.strip().splitlines() == [expected]


def test_compare_wants_equal_accuracy_and_medians_within_the_other_spread() -> None:
    from edgewatch.bench import compare

    first = minimal_report()
    second = json.loads(json.dumps(first))
    assert compare.compare(first, second)["differences"] == []
    row = second["detector"]["rows"][0]
    row["batch1"] = dict(row["batch1"], median_ms=2.9)  # inside the first's p5-p95 (1.1-2.9): fine
    row["throughput_fps"] = 1.0  # load-dependent: not compared
    assert compare.compare(first, second)["differences"] == []
    row["mAP50_95"] = 0.26
    row["inference_batch1"] = dict(row["inference_batch1"], median_ms=9.0, p5_ms=8.0, p95_ms=10.0)
    differences = compare.compare(first, second)["differences"]
    assert len(differences) == 2 and any("mAP50_95: 0.25 vs 0.26" in d for d in differences)


def test_compare_lists_the_targets_of_both_runs_side_by_side() -> None:
    from edgewatch.bench import compare

    first, second = minimal_report(), minimal_report()
    first["targets"] = {"graph_overhead_pct": {"value": 4.2, "target": "<= 10", "met": True},
                        "ultralytics_track_ratio": {"value": 1.6, "target": ">= 1.5", "met": True}}
    second["targets"] = {"graph_overhead_pct": {"value": 11.0, "target": "<= 10", "met": False}}
    assert compare.targets_side_by_side(first, second) == ["graph_overhead_pct: 4.2 vs 11.0 (target <= 10: met / not met)"]


def test_compare_counts_the_medians_that_moved_more_than_the_machine_itself() -> None:
    from edgewatch.bench import compare

    first = minimal_report()
    second = json.loads(json.dumps(first))
    first["run"]["speed_probe"] = {"detector": {"median_ms": 10.0}, "end": {"median_ms": 10.5}}
    second["run"]["speed_probe"] = {"detector": {"median_ms": 10.0}, "end": {"median_ms": 11.0}}  # moved 10%
    row = second["detector"]["rows"][0]
    row["batch1"] = {k: v * 1.5 if k.endswith("_ms") else v for k, v in row["batch1"].items()}  # median 3.0 vs 1.1-2.9
    row["inference_batch1"] = {k: v * 3 if k.endswith("_ms") else v for k, v in row["inference_batch1"].items()}
    result = compare.compare(first, second)
    assert result["drift"] == pytest.approx(0.1) and len(result["differences"]) == 2
    assert result["differences_beyond_drift"] == 1  # batch1 moved within 10% of the spread; inference_batch1 did not


def test_a_job_takes_as_many_calls_at_each_tick_as_fill_the_slice_at_its_fastest_warm_up_call() -> None:
    assert timing.calls_per_tick([9.0, 0.5, 0.7], 20.0) == 40  # the cold first call does not count
    assert timing.calls_per_tick([30.0, 25.0], 20.0) == 1  # a slow job: one call
    assert timing.calls_per_tick([0.3], 0.0) == timing.calls_per_tick([], 20.0) == 1  # no slice, no warm-up


def test_the_scene_stage_job_feeds_a_fresh_frame_to_every_call_however_many_a_run_makes() -> None:
    """A schedule makes more calls than a job's warm-up and runs (one per step of the run): the stage job makes
    each frame before its call, untimed, rather than drawing on a list made for warm-up + runs."""
    from edgewatch.bench.analytics import bench_scene, stage_job

    fed: list[int] = []
    job = stage_job(8, bench_scene(), runs=2)
    run = job.run
    job = timing.Job(lambda: fed.append(1) or run(), job.runs, job.warmup, job.prepare)
    schedule = timing.Schedule()
    out: dict = {}
    schedule.add({"stage": job}, out.update)
    for _ in range(10):
        schedule.tick()
    schedule.finish()
    assert out["stage"]["runs"] == 10 and len(fed) == job.warmup + 20  # each tick: an untimed call and a timed one
