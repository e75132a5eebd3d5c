"""`aisprint profile` on the real mask-detection components and real photos."""

import csv
import json
import shutil

import pytest

from compiler import api
from compiler.cli.main import app as cli
from compiler.cli.main import run
from compiler.errors import InvalidInput
from compiler.load.learnt import onnx_path
from compiler.load.oscarp import load_performance
from compiler.placement.from_application import system_from_application
from compiler.profile.campaign import profile_application
from compiler.profile.outputs import RUNTIME_COLUMNS
from tests.conftest import shared_path


@pytest.fixture
def two_photos(tmp_path):
    images = shared_path("images")
    folder = tmp_path / "photos"
    folder.mkdir()
    for photo in sorted(images.iterdir())[:2]:
        (folder / photo.name).symlink_to(photo)
    return folder


@pytest.mark.slow
def test_profiles_every_component_and_feeds_the_placement(prepared_examples, tmp_path,
                                                          two_photos):
    app = tmp_path / "app"
    shutil.copytree(prepared_examples["mask_detection"], app, symlinks=True)
    before = json.loads((app / "oscarp" / "performance_models.json").read_text())
    seen = []
    result = profile_application(app, inputs=two_photos, cores=(1,), parallelism=(1, 2),
                                 repetitions=2, progress=lambda d, t, u: seen.append((d, t)))
    assert seen[-1] == (12, 12)  # 3 units x 2 configurations x 2 repetitions
    assert [u.unit.name for u in result.units] == ["blurry-faces-onnx", "mask-detector",
                                                   "mask-alert"]
    frame = app / "oscarp" / "profile" / "mask-detector" / "results" / "Dataframes"
    with open(frame / "runtime_dataframe.csv") as handle:
        rows = list(csv.DictReader(handle))
    assert tuple(rows[0]) == RUNTIME_COLUMNS and len(rows) == 4
    assert {(r["target_parallelism"], r["cores"]) for r in rows} == {("1", "1"), ("2", "2")}
    assert all(0.001 < float(r["runtime"]) < 30 for r in rows)  # a real detector ran
    with open(frame / "jobs.csv") as handle:
        jobs = list(csv.DictReader(handle))
    assert len(jobs) == 8 and {j["input"] for j in jobs} == {p.name for p in two_photos.iterdir()}

    models = json.loads((app / "oscarp" / "performance_models.json").read_text())
    learnt = models["mask-detector"]["mask-detector"]["VM-t3large"]
    assert learnt["model"] == "CoreBasedPredictor" and learnt["cores"] == 2
    assert onnx_path(learnt["regressor_file"], app).is_file()
    assert (app / learnt["regressor_file"]).is_file()
    # hand-written entries of resources this x86 machine does not stand for are kept
    assert models["blurry-faces-onnx"]["blurry-faces-onnx"]["RaspPi4"] == \
        before["blurry-faces-onnx"]["blurry-faces-onnx"]["RaspPi4"]
    assert models["mask-detector"]["mask-detector"]["Lambda-4GB"] == \
        before["mask-detector"]["mask-detector"]["Lambda-4GB"]
    sizes = (app / "oscarp" / "components_data_size.yaml").read_text()
    assert sizes.startswith("# yaml-language-server")
    blurred = next(u for u in result.units if u.unit.name == "blurry-faces-onnx")
    assert 0.001 < blurred.data_size_mb < 5  # the blurred JPEG it sends on

    # the placement evaluates the ONNX export at VM-t3large's 2 cores itself (the demand field,
    # its fallback, is made absurd) and gets what scikit-learn predicted in the campaign (save()
    # keeps an export only when the two agree to 1e-3)
    models["mask-detector"]["mask-detector"]["VM-t3large"] = dict(learnt, demand=999.0)
    (app / "oscarp" / "performance_models.json").write_text(json.dumps(models))
    report = api.validate(app)
    performance, found = load_performance(app)
    assert not found
    system = system_from_application(report.application, performance).system
    option = next(o for o in system.options_for("mask-detector", "mask-detector")
                  if o.resource == "VM-t3large")
    assert option.demand == pytest.approx(learnt["demand"], rel=2e-3) and option.model == "QTcloud"


def test_no_inputs_is_ais921(mask_app, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(InvalidInput) as caught:
        profile_application(mask_app, inputs=empty)
    assert caught.value.diagnostics[0].code == "AIS921"
    assert "--inputs" in caught.value.diagnostics[0].hint


def test_a_crashing_component_is_ais923_with_its_error(mask_app, tmp_path):
    main = mask_app / "src" / "blurry-faces-onnx" / "main.py"
    main.write_text(main.read_text().replace(
        "    source = Path(args[\"input\"])", "    raise ValueError(\"cannot read \" + "
        "args[\"input\"])\n    source = Path(args[\"input\"])"))
    photo = tmp_path / "x.jpg"
    photo.write_bytes(b"not really a photo")
    with pytest.raises(InvalidInput) as caught:
        profile_application(mask_app, inputs=photo, cores=(1,), parallelism=(1,),
                            repetitions=1)
    diag = caught.value.diagnostics[0]
    assert diag.code == "AIS923" and "ValueError: cannot read" in diag.message
    assert diag.location.file.endswith("main.py")


def test_an_entry_point_that_cannot_be_imported_is_ais924(mask_app, tmp_path):
    main = mask_app / "src" / "blurry-faces-onnx" / "main.py"
    main.write_text("import a_module_nobody_installed\n" + main.read_text())
    photo = tmp_path / "x.jpg"
    photo.write_bytes(b"-")
    with pytest.raises(InvalidInput) as caught:
        profile_application(mask_app, inputs=photo, cores=(1,), parallelism=(1,),
                            repetitions=1)
    diag = caught.value.diagnostics[0]
    assert diag.code == "AIS924" and "a_module_nobody_installed" in diag.message


def test_impossible_configurations_are_ais926(mask_app, tmp_path):
    photo = tmp_path / "x.jpg"
    photo.write_bytes(b"-")
    with pytest.raises(InvalidInput) as caught:
        profile_application(mask_app, inputs=photo, cores=(4096,))
    assert caught.value.diagnostics[0].code == "AIS926"
    with pytest.raises(InvalidInput) as caught:
        profile_application(mask_app, inputs=photo, resources=["Lambda-4GB"])
    assert caught.value.diagnostics[0].code == "AIS927"


def test_cli_usage_errors(mask_app):
    assert run(cli, ["profile", str(mask_app), "--cores", "one"]) == 64
    assert run(cli, ["profile"]) == 64
    assert run(cli, ["profile", str(mask_app), "--inputs", str(mask_app / "nothing")]) == 1
