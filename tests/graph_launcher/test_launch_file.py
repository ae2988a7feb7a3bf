"""Parsing, validation and substitution of launch-YAML files."""

from __future__ import annotations

from pathlib import Path

import pytest
from graph_launcher.launch_file import (
    LaunchFileError,
    NodeSpec,
    parse_launch_arguments,
    parse_launch_text,
    read_launch_file,
    substitute,
    typed_param_value,
)

REPO_ROOT = Path(__file__).resolve().parents[2]

GRAPH = """
launch:
- arg: {name: camera_id, default: cam1, description: "Camera id"}
- arg: {name: fps, default: "12.0"}
- arg: {name: topic, default: "$(var camera_id)/image_raw"}
- arg: {name: source}
- node:
    pkg: camera_node
    exec: camera_node
    name: camera
    namespace: $(var camera_id)
    on_exit: shutdown
    output: screen
    args: "--verbose --tag 'a b'"
    param:
    - {name: source, value: $(var source)}
    - {name: fps, value: $(var fps)}
    - {name: loop, value: false}
    - {name: width, value: 1280}
    - {name: label, value: "cam $(var camera_id)"}
    remap:
    - {from: image_raw, to: $(var topic)}
- node: {pkg: face_detect_node, exec: face_detect_node}
"""


def resolve(text: str, **overrides: str) -> tuple[NodeSpec, ...]:
    return parse_launch_text(text, "graph.launch.yaml").resolve(overrides)


def test_full_graph_resolves_with_defaults_and_overrides() -> None:
    camera, detector = resolve(GRAPH, source="clip.mp4", camera_id="door")
    assert camera == NodeSpec(
        pkg="camera_node",
        executable="camera_node",
        name="camera",
        namespace="/door",
        params=(
            ("source", "clip.mp4"),
            ("fps", 12.0),
            ("loop", False),
            ("width", 1280),
            ("label", "cam door"),
        ),
        remaps=(("image_raw", "door/image_raw"),),
        arguments=("--verbose", "--tag", "a b"),
        output="screen",
        shutdown_on_exit=True,
    )
    assert detector.label == "face_detect_node"
    assert (detector.name, detector.namespace, detector.params, detector.shutdown_on_exit) == (
        None,
        None,
        (),
        False,
    )


def test_declared_arguments_keep_order_defaults_and_descriptions() -> None:
    launch_file = parse_launch_text(GRAPH, "graph.launch.yaml")
    assert [(a.name, a.default, a.description) for a in launch_file.arguments] == [
        ("camera_id", "cam1", "Camera id"),
        ("fps", "12.0", ""),
        ("topic", "$(var camera_id)/image_raw", ""),
        ("source", None, ""),
    ]


@pytest.mark.parametrize(
    ("text", "values", "expected"),
    [
        ("plain", {}, "plain"),
        ("$(var a)", {"a": "1"}, "1"),
        ("x-$(var a)-$(var b)-y", {"a": "1", "b": "2"}, "x-1-2-y"),
        ("$( var  a )", {"a": "spaced"}, "spaced"),
        ("", {}, ""),
    ],
)
def test_substitute(text: str, values: dict[str, str], expected: str) -> None:
    assert substitute(text, values, "here") == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("$(env HOME)", "unsupported substitution '$(env HOME)'"),
        ("$(find-pkg-share camera_node)/x", "only $(var NAME) is supported"),
        ("$(var missing)", "$(var missing) refers to an undeclared launch argument"),
        ("$(var a", "malformed substitution"),
        ("$(var $(var a))", "malformed substitution"),
    ],
)
def test_substitute_rejects(text: str, message: str) -> None:
    with pytest.raises(LaunchFileError, match=r"^here: ") as error:
        substitute(text, {"a": "1"}, "here")
    assert message in str(error.value)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("12", 12),
        ("-3", -3),
        ("12.0", 12.0),
        ("0.25", 0.25),
        ("true", True),
        ("False", False),
        ("hog", "hog"),
        ("samples/video/clip.mp4", "samples/video/clip.mp4"),
        ("rtsp://host:554/stream", "rtsp://host:554/stream"),
        ("", ""),
        ("[1, 2]", [1, 2]),
        ("a: b", "a: b"),
        ("{unclosed", "{unclosed"),
    ],
)
def test_param_strings_are_typed_like_launch_ros(text: str, expected: object) -> None:
    value = typed_param_value(text)
    assert value == expected
    assert type(value) is type(expected)


@pytest.mark.parametrize(
    ("tokens", "expected"),
    [
        ([], {}),
        (["a:=1", "b:=x:=y"], {"a": "1", "b": "x:=y"}),
        (["empty:="], {"empty": ""}),
        (["a:=1", "a:=2"], {"a": "2"}),
    ],
)
def test_parse_launch_arguments(tokens: list[str], expected: dict[str, str]) -> None:
    assert parse_launch_arguments(tokens) == expected


@pytest.mark.parametrize("token", ["a=1", ":=1", "a", "--flag"])
def test_parse_launch_arguments_rejects(token: str) -> None:
    with pytest.raises(LaunchFileError, match="must look like name:=value"):
        parse_launch_arguments([token])


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("launch: [", "invalid YAML"),
        ("- node: {pkg: a, exec: b}", "single key 'launch'"),
        ("launch: {node: {pkg: a, exec: b}}", "'launch' must be a list"),
        ("launch:\n- group: {}", "launch entry #1 (group): unsupported tag 'group'"),
        ("launch:\n- include: {file: x.launch.yaml}", "launch entry #1 (include): included file"),
        (
            "launch:\n- include: {path: x.launch.yaml}",
            "(include): unsupported key(s) path; supported: arg, file",
        ),
        ("launch:\n- include: {arg: []}", "(include): missing required key(s) file"),
        (
            "launch:\n- include: {file: '$(var d)/x.launch.yaml'}",
            "'file' may use $(dirname) but not $(var ...)",
        ),
        (
            "launch:\n- {arg: {name: a}, node: {pkg: a, exec: b}}",
            "launch entry #1 must be a mapping with one tag",
        ),
        ("launch:\n- node: {exec: b}", "launch entry #1 (node): missing required key(s) pkg"),
        ("launch:\n- node: {pkg: a}", "missing required key(s) exec"),
        ("launch:\n- node: {pkg: a, exec: b, respawn: 'true'}", "unsupported key(s) respawn"),
        (
            "launch:\n- node: {pkg: a, exec: b, name: n, ros_args: x}",
            "(node) 'n': unsupported key(s) ros_args",
        ),
        ("launch:\n- node: {pkg: a, exec: b, on_exit: restart}", "on_exit 'restart' not supported"),
        ("launch:\n- node: {pkg: a, exec: 7}", "'exec' must be a string, got int 7"),
        ("launch:\n- node: {pkg: a, exec: b, param: {name: x, value: 1}}", "'param' must be a list"),
        (
            "launch:\n- node: {pkg: a, exec: b, param: [{from: p.yaml, name: x}]}",
            "param: unsupported key(s) name; supported: from",
        ),
        ("launch:\n- node: {pkg: a, exec: b, param: [{name: x}]}", "param: missing required key(s) value"),
        (
            "launch:\n- node: {pkg: a, exec: b, param: [{name: x, value: {a: 1}}]}",
            "value must be a bool, int",
        ),
        ("launch:\n- node: {pkg: a, exec: b, remap: [{from: x}]}", "remap: missing required key(s) to"),
        ("launch:\n- arg: {name: a, choices: [x, y]}", "(arg): unsupported key(s) choices"),
        ("launch:\n- arg: {default: x}", "missing required key(s) name"),
        ("launch:\n- arg: {name: 'bad name'}", "invalid argument name 'bad name'"),
        ("launch:\n- arg: {name: fps, default: 12}", "'default' must be a string, got int 12 (quote it)"),
        ("launch:\n- arg: {name: a}\n- arg: {name: a}", "declared twice: a"),
    ],
)
def test_malformed_files_are_rejected_with_the_place(text: str, message: str) -> None:
    with pytest.raises(LaunchFileError, match=r"^bad\.launch\.yaml: ") as error:
        parse_launch_text(text, "bad.launch.yaml")
    assert message in str(error.value)


@pytest.mark.parametrize(
    ("text", "overrides", "message"),
    [
        (
            GRAPH,
            {"source": "x", "fsp": "12"},
            "unknown launch argument(s) fsp; declared: camera_id, fps, source, topic",
        ),
        (GRAPH, {}, "launch argument 'source' is required (no default); pass source:=VALUE"),
        (
            "launch:\n- node: {pkg: a, exec: b, name: $(var n)}",
            {},
            "$(var n) refers to an undeclared launch argument",
        ),
        (
            "launch:\n- arg: {name: n}\n- node: {pkg: a, exec: b, name: $(var n)}",
            {"n": "9lives"},
            "invalid node name",
        ),
        ("launch:\n- node: {pkg: a, exec: b, namespace: cam-1}", {}, "invalid namespace '/cam-1'"),
        ("launch:\n- node: {pkg: a, exec: b, output: loud}", {}, "output 'loud' not supported"),
        (
            "launch:\n- arg: {name: p}\n- node: {pkg: $(var p), exec: b}",
            {"p": ""},
            "'pkg' and 'exec' must not be empty",
        ),
        (
            "launch:\n- node: {pkg: a, exec: b, param: [{name: x, value: $(env X)}]}",
            {},
            "unsupported substitution",
        ),
    ],
)
def test_resolution_errors(text: str, overrides: dict[str, str], message: str) -> None:
    with pytest.raises(LaunchFileError) as error:
        resolve(text, **overrides)
    assert message in str(error.value)


@pytest.mark.parametrize(
    ("namespace", "expected"),
    [("cam1", "/cam1"), ("/cam1", "/cam1"), ("store/cam1/", "/store/cam1"), ("", "/"), ("/", "/")],
)
def test_namespaces_are_made_absolute(namespace: str, expected: str) -> None:
    (node,) = resolve(f"launch:\n- node: {{pkg: a, exec: b, namespace: '{namespace}'}}")
    assert node.namespace == expected


def test_unreadable_file_names_the_path(tmp_path: Path) -> None:
    missing = tmp_path / "missing.launch.yaml"
    with pytest.raises(LaunchFileError, match=r"missing\.launch\.yaml: cannot read launch file"):
        read_launch_file(missing)


@pytest.mark.parametrize("path", sorted((REPO_ROOT / "launch").glob("*.launch.yaml")), ids=lambda p: p.name)
def test_project_launch_files_resolve_with_their_defaults(path: Path) -> None:
    """Every shipped graph stays inside the supported subset and runs with no arguments."""
    nodes = read_launch_file(path).resolve({})
    assert nodes
    assert all(node.pkg and node.executable for node in nodes)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("[cam1, cam2]", ["cam1", "cam2"]),  # a substituted string typed by YAML, as launch_ros does
        ("[1, 2.5]", [1.0, 2.5]),
        ("[true, false]", [True, False]),
        ("[]", "[]"),  # ROS cannot type an empty array: it stays a string
        ("[1, a]", "[1, a]"),  # mixed types: not a ROS array
        ("{a: 1}", "{a: 1}"),
    ],
)
def test_list_values_are_typed_like_ros_arrays(value: str, expected: object) -> None:
    assert typed_param_value(value) == expected


def test_yaml_list_param_is_substituted_and_mixed_lists_are_refused() -> None:
    text = (
        "launch:\n- arg: {name: cam, default: door}\n"
        "- node: {pkg: a, exec: b, param: [{name: ids, value: [$(var cam), till]}]}\n"
    )
    (node,) = parse_launch_text(text, "t.yaml").resolve({})
    assert node.params == (("ids", ["door", "till"]),)
    mixed = "launch:\n- node: {pkg: a, exec: b, param: [{name: x, value: [1, a]}]}\n"
    with pytest.raises(LaunchFileError, match="or a non-empty list of one of them, got \\[1, 'a'\\]"):
        parse_launch_text(mixed, "t.yaml")
    substituted = (
        "launch:\n- arg: {name: n, default: '7'}\n"
        "- node: {pkg: a, exec: b, param: [{name: x, value: [$(var n), a]}]}\n"
    )
    with pytest.raises(LaunchFileError, match="list items must all have one type"):
        parse_launch_text(substituted, "t.yaml").resolve({})


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


CAMERA = """
launch:
- arg: {name: camera_id, default: cam1}
- arg: {name: fps, default: "12.0"}
- node:
    pkg: camera_node
    exec: camera_node
    namespace: $(var camera_id)
    param: [{name: fps, value: $(var fps)}, {name: where, value: $(dirname)}]
"""


def test_include_takes_given_args_then_the_includers_then_its_defaults(tmp_path: Path) -> None:
    """As ``ros2 launch``: an include's ``arg`` wins for that file, the including scope's values
    (command line, the includer's arguments) come next, the included file's defaults last."""
    write(tmp_path / "launch" / "sub", "camera.launch.yaml", CAMERA)
    top = write(
        tmp_path / "launch",
        "top.launch.yaml",
        "launch:\n- arg: {name: camera_id, default: door}\n"
        "- include:\n    file: $(dirname)/sub/camera.launch.yaml\n"
        "    arg: [{name: fps, value: '2.$(var camera_id)'}]\n"
        "- include: {file: $(dirname)/sub/camera.launch.yaml}\n"
        "- node: {pkg: a, exec: b, namespace: $(var camera_id)}\n",
    )
    first, second, own = read_launch_file(top).resolve({})
    assert (first.namespace, first.params) == (
        "/door",
        (("fps", "2.door"), ("where", str(tmp_path / "launch" / "sub"))),
    )
    assert (second.namespace, second.params[0]) == ("/door", ("fps", 12.0))
    assert own.namespace == "/door"
    overridden = read_launch_file(top).resolve({"fps": "5.0", "camera_id": "till"})
    assert [(n.namespace, n.params[:1]) for n in overridden] == [
        ("/till", (("fps", "2.till"),)),
        ("/till", (("fps", 5.0),)),
        ("/till", ()),
    ]


def test_included_arguments_are_listed_and_accepted_on_the_command_line(tmp_path: Path) -> None:
    write(tmp_path, "camera.launch.yaml", CAMERA)
    top = write(
        tmp_path,
        "top.launch.yaml",
        "launch:\n- arg: {name: fps, default: '1.0', description: mine}\n"
        "- include: {file: $(dirname)/camera.launch.yaml}\n",
    )
    launch_file = read_launch_file(top)
    assert [(a.name, a.default, a.description) for a in launch_file.all_arguments()] == [
        ("fps", "1.0", "mine"),
        ("camera_id", "cam1", ""),
    ]
    (node,) = launch_file.resolve({"camera_id": "x"})
    assert (node.namespace, node.params[0]) == ("/x", ("fps", 1.0))
    with pytest.raises(LaunchFileError, match="unknown launch argument\\(s\\) fsp; declared: camera_id, fps"):
        launch_file.resolve({"fsp": "1"})


def test_what_an_included_file_sets_does_not_leak_back(tmp_path: Path) -> None:
    write(tmp_path, "camera.launch.yaml", CAMERA)
    top = write(
        tmp_path,
        "top.launch.yaml",
        "launch:\n- include: {file: $(dirname)/camera.launch.yaml, arg: [{name: camera_id, value: a}]}\n"
        "- node: {pkg: a, exec: b, namespace: $(var camera_id)}\n",
    )
    with pytest.raises(
        LaunchFileError, match="\\$\\(var camera_id\\) refers to an undeclared launch argument"
    ):
        read_launch_file(top).resolve({})


def test_include_arg_unknown_to_the_included_file_is_rejected_by_name(tmp_path: Path) -> None:
    write(tmp_path, "camera.launch.yaml", CAMERA)
    top = write(
        tmp_path,
        "top.launch.yaml",
        "launch:\n- include:\n    file: $(dirname)/camera.launch.yaml\n    arg: [{name: fsp, value: '1'}]\n",
    )
    with pytest.raises(
        LaunchFileError,
        match=r"top\.launch\.yaml: launch entry #1 \(include\): "
        r"camera\.launch\.yaml declares no argument\(s\) fsp; declared: camera_id, fps",
    ):
        read_launch_file(top)
    bad_arg = write(
        tmp_path, "bad.launch.yaml", "launch:\n- include: {file: camera.launch.yaml, arg: [{name: x}]}\n"
    )
    with pytest.raises(LaunchFileError, match=r"\(include\) arg: missing required key\(s\) value"):
        read_launch_file(bad_arg)


def test_required_argument_of_an_included_file_names_that_file(tmp_path: Path) -> None:
    write(tmp_path, "needs.launch.yaml", "launch:\n- arg: {name: source}\n- node: {pkg: a, exec: b}\n")
    top = write(tmp_path, "top.launch.yaml", "launch:\n- include: {file: $(dirname)/needs.launch.yaml}\n")
    with pytest.raises(LaunchFileError, match=r"needs\.launch\.yaml: launch argument 'source' is required"):
        read_launch_file(top).resolve({})
    assert read_launch_file(top).resolve({"source": "s"})


@pytest.mark.parametrize("via", ["$(dirname)/a.launch.yaml", "$(dirname)/../d/a.launch.yaml"])
def test_include_cycles_are_detected(tmp_path: Path, via: str) -> None:
    write(tmp_path / "d", "a.launch.yaml", "launch:\n- include: {file: $(dirname)/b.launch.yaml}\n")
    write(tmp_path / "d", "b.launch.yaml", f"launch:\n- include: {{file: '{via}'}}\n")
    a, b = tmp_path / "d" / "a.launch.yaml", tmp_path / "d" / "b.launch.yaml"
    with pytest.raises(LaunchFileError, match="include cycle") as error:
        read_launch_file(a)
    assert str(error.value).endswith(f"include cycle: {a} -> {b} -> {a}")
    selfish = write(tmp_path, "self.launch.yaml", "launch:\n- include: {file: $(dirname)/self.launch.yaml}\n")
    with pytest.raises(LaunchFileError, match="include cycle"):
        read_launch_file(selfish)


def test_the_same_file_may_be_included_twice_without_a_cycle(tmp_path: Path) -> None:
    write(tmp_path, "camera.launch.yaml", CAMERA)
    top = write(
        tmp_path,
        "top.launch.yaml",
        "launch:\n"
        "- include: {file: $(dirname)/camera.launch.yaml, arg: [{name: camera_id, value: a}]}\n"
        "- include: {file: $(dirname)/camera.launch.yaml, arg: [{name: camera_id, value: b}]}\n",
    )
    assert [n.namespace for n in read_launch_file(top).resolve({})] == ["/a", "/b"]


def test_params_files_come_from_dirname_and_must_exist(tmp_path: Path) -> None:
    params = write(tmp_path / "config", "camera_node.yaml", "/**:\n  ros__parameters: {fps: 5.0}\n")
    graph = write(
        tmp_path / "launch",
        "g.launch.yaml",
        "launch:\n- arg: {name: cfg, default: camera_node}\n"
        "- node:\n    pkg: a\n    exec: b\n    param:\n"
        "    - {name: fps, value: 2.0}\n"
        "    - {from: $(dirname)/../config/$(var cfg).yaml}\n",
    )
    (node,) = read_launch_file(graph).resolve({})
    assert node.params_files == (str(params),)
    assert node.params == (("fps", 2.0),)
    with pytest.raises(
        LaunchFileError, match=r"param from: parameters file .*config/other\.yaml does not exist"
    ):
        read_launch_file(graph).resolve({"cfg": "other"})


def test_dirname_of_a_text_is_the_directory_of_its_source() -> None:
    (node,) = resolve("launch:\n- node: {pkg: a, exec: b, param: [{name: d, value: $(dirname)}]}")
    assert node.params == (("d", str(Path.cwd())),)
    assert substitute("$(var a)", {"a": "x"}, "here") == "x"
    with pytest.raises(LaunchFileError, match=r"only \$\(var NAME\) is supported"):
        substitute("$(dirname)", {}, "here")
