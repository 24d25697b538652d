"""Synthetic GitHub issue dumps: realistic REST API issue objects for import benchmarks and tests.

`synthetic_issues()` yields issue objects of a fictional deep-learning framework ("DeepFlow", imported as
`df`) with the full key set and nesting of GitHub's REST API (tests/test_generate_dump.py checks them against
the sample issues in tests/data/github-issues/), optionally with their comments as `comment_data`
(python-github-backup's layout). Pure Python and deterministic for a seed: text is assembled from fragments
with one `random.Random`. `python -m bench.generate_dump` writes them to a file.

Size calibration (measured: seed 0, default options, compact UTF-8 JSON as generate_dump writes it):
100,000 issues come to 782,861,216 bytes, 7,829 bytes per line on average (2,000 issues: 7.5-8.3 KB
depending on the seed). The median body is 1.9 KB; 2% of bodies are null, 1.5% are 20-60 KB logs, and one
issue in every block of 2,000 carries a 300 KB-1 MB log. Bodies are about 40% of a line; the user objects
(author, assignees, closed_by), labels and URLs make up the rest. Generating them takes about 12 s.
"""

import base64
import calendar
import itertools
import math
import random
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

# Not the demo's deepflow/deepflow: importing a synthetic dump must not overwrite the demo issues.
DEFAULT_REPO = "deepflow/deepflow-synthetic"

API = "https://api.github.com"
WEB = "https://github.com"

# Issues are created in [2016, 2026); replies, closes and edits may run a little into 2026.
FIRST_CREATED = calendar.timegm((2016, 1, 1, 0, 0, 0))
LAST_CREATED = calendar.timegm((2026, 1, 1, 0, 0, 0))
LAST_ACTIVITY = calendar.timegm((2026, 10, 31, 0, 0, 0))
DAY = 86_400

# Body sizes (characters): lognormal around the median, a tail of long logs, rare giant dumps.
BODY_MEDIAN = 1_430
BODY_SIGMA = 0.8
LONG_LOG_SHARE = 0.015
GIANT_EVERY = 2_000
NULL_BODY_SHARE = 0.02
PULL_REQUEST_SHARE = 0.03
CLOSED_SHARE = 0.8

# A pool of this many distinct people; a few of them open most issues, as on real trackers.
PEOPLE = 6_000


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


# --- Fixed vocabulary -------------------------------------------------------------------------------------------

_FIRST_NAMES = _words(
    "aarav abdul adriana ahmed aiko akira alex alice amara ana andrei anil anna arjun aya bao ben bilal bo "
    "bruno camila carla carlos chen chidi chloe daniel daria david deniz diego dmitri elena elif emeka emily "
    "emre erik eva farah fatima felix gaurav greta hana hassan hiro hugo ibrahim ines ivan jae jakub jana "
    "javier jin jonas jorge julia kai kamal karim kate kenji kim kofi lars laura leila lena leo lin linh "
    "lucas luis maja marco maria mateo mei mia miguel mohamed nadia naveen nikhil nina noah nour olga omar "
    "oscar pablo paulo pedro priya qiang rafael rahul ravi rina rohan rosa sam sana sara sergei shreya "
    "sofia soren sunil tariq thanh thomas tomas uma valentina vera victor vikram wei xin yan yara yuki "
    "yusuf zara zhang zoe"
)
_LAST_NAMES = _words(
    "abe adeyemi ahmadi alvarez andersen bauer bianchi brown chandra chen costa cruz dang das dubois "
    "eriksson fernandes fischer garcia gupta haddad hansen hoang horvath huang ibrahim ito iyer jansen "
    "jensen kang kapoor kato khan kim kowalski kumar larsen lee li lin liu lopez mahmoud martin meyer "
    "miller mishra moreau mueller murphy nakamura nguyen novak okafor okonkwo olsen ortiz park patel "
    "pereira petrov popescu qureshi rao reddy ricci rossi saito santos sato schmidt shah sharma silva "
    "singh smirnov sousa suzuki tanaka tran ueda vargas verma volkov wagner wang weber wong wu yamamoto "
    "yang yilmaz zhang zhao zhou"
)
_LOGIN_SUFFIXES = ("ml", "dev", "ai", "cv", "nlp", "99", "01", "42", "007", "x", "hub", "lab", "py", "codes")

# (API, component label, short component name)
_APIS = (
    ("df.keras.layers.Dense", "comp:keras", "Keras"),
    ("df.keras.layers.Conv2D", "comp:keras", "Keras"),
    ("df.keras.layers.LSTM", "comp:keras", "Keras"),
    ("df.keras.layers.BatchNormalization", "comp:keras", "Keras"),
    ("df.keras.layers.MultiHeadAttention", "comp:keras", "Keras"),
    ("df.keras.layers.Embedding", "comp:keras", "Keras"),
    ("df.keras.Model.fit", "comp:keras", "Keras"),
    ("df.keras.Model.predict", "comp:keras", "Keras"),
    ("df.keras.models.load_model", "comp:keras", "Keras"),
    ("df.keras.callbacks.ModelCheckpoint", "comp:keras", "Keras"),
    ("df.keras.optimizers.Adam", "comp:keras", "Keras"),
    ("df.keras.losses.SparseCategoricalCrossentropy", "comp:keras", "Keras"),
    ("df.keras.mixed_precision.set_global_policy", "comp:keras", "Keras"),
    ("df.data.Dataset.map", "comp:data", "data"),
    ("df.data.Dataset.interleave", "comp:data", "data"),
    ("df.data.Dataset.from_generator", "comp:data", "data"),
    ("df.data.Dataset.cache", "comp:data", "data"),
    ("df.data.experimental.snapshot", "comp:data", "data"),
    ("df.io.parse_example", "comp:data", "data"),
    ("df.linalg.matmul", "comp:ops", "ops"),
    ("df.linalg.eigh", "comp:ops", "ops"),
    ("df.math.reduce_sum", "comp:ops", "ops"),
    ("df.math.segment_sum", "comp:ops", "ops"),
    ("df.nn.conv2d_transpose", "comp:ops", "ops"),
    ("df.nn.softmax_cross_entropy_with_logits", "comp:ops", "ops"),
    ("df.image.resize", "comp:ops", "ops"),
    ("df.gather_nd", "comp:ops", "ops"),
    ("df.scatter_nd", "comp:ops", "ops"),
    ("df.signal.stft", "comp:ops", "ops"),
    ("df.strings.split", "comp:ops", "ops"),
    ("df.sparse.sparse_dense_matmul", "comp:ops", "ops"),
    ("df.raw_ops.Conv2DBackpropInput", "comp:ops", "ops"),
    ("df.function(jit_compile=True)", "comp:xla", "XLA"),
    ("df.xla.experimental.compile", "comp:xla", "XLA"),
    ("df.function", "comp:autograph", "AutoGraph"),
    ("df.GradientTape.gradient", "comp:ops", "ops"),
    ("df.distribute.MirroredStrategy", "comp:dist-strat", "distribution strategy"),
    ("df.distribute.MultiWorkerMirroredStrategy", "comp:dist-strat", "distribution strategy"),
    ("df.saved_model.save", "comp:apis", "SavedModel"),
    ("df.saved_model.load", "comp:apis", "SavedModel"),
    ("df.lite.Converter", "comp:lite", "Lite"),
    ("df.lite.Interpreter", "comp:lite", "Lite"),
    ("df.config.experimental.set_memory_growth", "comp:gpu", "GPU"),
    ("df.config.set_visible_devices", "comp:gpu", "GPU"),
    ("df.random.Generator.normal", "comp:ops", "ops"),
    ("df.experimental.numpy", "comp:apis", "NumPy API"),
    ("df.train.Checkpoint", "comp:apis", "checkpointing"),
    ("df.summary.scalar", "comp:apis", "summaries"),
)

_PROBLEMS = (
    "returns wrong results",
    "produces NaN loss",
    "segfaults",
    "leaks memory",
    "raises InvalidArgumentError",
    "ignores the `training` argument",
    "hangs forever",
    "crashes with CUDA_ERROR_ILLEGAL_ADDRESS",
    "gives different results on CPU and GPU",
    "fails to serialize",
    "silently drops the last batch",
    "does not respect `dtype`",
    "runs out of memory",
    "is non-deterministic",
    "returns zero gradients",
    "fails with a shape mismatch",
    "triggers retracing on every call",
    "loses the optimizer state",
    "produces an empty output",
    "outputs inf for large inputs",
)
_CONDITIONS = (
    "when jit_compile=True",
    "inside df.function",
    "with mixed precision",
    "on multiple GPUs",
    "after upgrading to {version}",
    "with ragged tensors",
    "with batch size 1",
    "when the input has a dynamic shape",
    "on Apple Silicon",
    "on Windows",
    "with float16 inputs",
    "when the model is reloaded",
    "with a custom training loop",
    "under MirroredStrategy",
    "in graph mode only",
    "when called twice",
    "with an empty tensor",
    "on TPU",
    "with channels_first",
    "after the first epoch",
)
_FEATURES = (
    "bfloat16 support",
    "a `pad_to_multiple_of` option",
    "complex dtypes",
    "deterministic kernels",
    "ragged inputs",
    "sparse gradients",
    "int8 quantization",
    "streaming checkpoints",
    "a `seed` argument",
    "asynchronous prefetching to GPU",
    "ONNX export",
    "dynamic shapes under XLA",
    "per-layer learning rates",
    "flash attention",
    "native float8 training",
    "a progress callback",
)
_TASKS = (
    "freeze the first layers of a pretrained model",
    "use a custom loss with sample weights",
    "load a SavedModel without the original code",
    "run inference on multiple GPUs",
    "feed variable-length sequences to an LSTM",
    "export a model for serving",
    "limit GPU memory usage",
    "get reproducible results",
    "resume training from a checkpoint",
    "convert a model with custom ops to Lite",
    "debug NaNs in the gradients",
    "profile the input pipeline",
    "write a custom training step",
    "share weights between two models",
)
_ERRORS = (
    ("deepflow.python.framework.errors_impl.InvalidArgumentError", "Incompatible shapes: [{b},{d}] vs. [{b2},{d}]"),
    ("deepflow.python.framework.errors_impl.InvalidArgumentError", "indices[{i},0] = {n} is not in [0, {d})"),
    (
        "deepflow.python.framework.errors_impl.ResourceExhaustedError",
        "OOM when allocating tensor with shape[{b},{d},{d2}] and type float on "
        "/job:localhost/replica:0/task:0/device:GPU:0 by allocator GPU_0_bfc",
    ),
    ("deepflow.python.framework.errors_impl.InternalError", "Failed to launch kernel: CUDA_ERROR_ILLEGAL_ADDRESS"),
    (
        "ValueError",
        'Input 0 of layer "dense_{i}" is incompatible with the layer: expected axis -1 of input shape to have '
        "value {d}, but received input with shape (None, {d2})",
    ),
    ("TypeError", "Cannot convert a symbolic DeepFlow tensor (dense_{i}/BiasAdd:0) to a NumPy array."),
    (
        "deepflow.python.framework.errors_impl.NotFoundError",
        "No registered 'SegmentSumV2' OpKernel for 'GPU' devices compatible with node {{node SegmentSumV2}}",
    ),
    ("deepflow.python.framework.errors_impl.UnimplementedError", "DNN library is not found."),
    (
        "deepflow.python.framework.errors_impl.FailedPreconditionError",
        "Could not find variable dense_{i}/kernel. This could mean that the variable has been deleted.",
    ),
    ("AttributeError", "'KerasTensor' object has no attribute 'numpy'"),
    ("RuntimeError", "Attempting to capture an EagerTensor without building a function."),
    (
        "deepflow.python.framework.errors_impl.InternalError",
        "XLA compilation failed: RET_CHECK failure (xla/service/gpu/ir_emitter_unnested.cc:{n}) "
        "ShapeUtil::Equal(operand_shape, output_shape)",
    ),
    (
        "ValueError",
        "Unknown layer: 'PositionalEmbedding'. Please ensure you are using a `df.keras.utils.custom_object_scope`",
    ),
    ("ValueError", "No gradients provided for any variable: ['dense_{i}/kernel:0', 'dense_{i}/bias:0']."),
)
_TRACEBACK_FRAMES = (
    ("deepflow/python/util/traceback_utils.py", "error_handler", "raise e.with_traceback(filtered_tb) from None"),
    ("keras/src/engine/training.py", "fit", "tmp_logs = self.train_function(iterator)"),
    (
        "keras/src/engine/training.py",
        "train_step",
        "self.optimizer.minimize(loss, self.trainable_variables, tape=tape)",
    ),
    ("keras/src/engine/base_layer.py", "__call__", "outputs = call_fn(inputs, *args, **kwargs)"),
    ("keras/src/engine/input_spec.py", "assert_input_compatibility", "raise ValueError("),
    ("keras/src/saving/saving_api.py", "load_model", "return legacy_sm_saving_lib.load_model("),
    (
        "deepflow/python/eager/polymorphic_function/polymorphic_function.py",
        "__call__",
        "result = self._call(*args, **kwds)",
    ),
    (
        "deepflow/python/eager/polymorphic_function/polymorphic_function.py",
        "_call",
        "return self._no_variable_creation_fn(*args, **kwds)",
    ),
    (
        "deepflow/python/eager/polymorphic_function/concrete_function.py",
        "_call_flat",
        "return self._inference_function.call(",
    ),
    (
        "deepflow/python/eager/execute.py",
        "quick_execute",
        "tensors = pywrap_dfe.DFE_Py_Execute(ctx._handle, device_name, op_name,",
    ),
    ("deepflow/python/framework/ops.py", "raise_from_not_ok_status", "raise core._status_to_exception(e) from None"),
    ("deepflow/python/ops/math_ops.py", "matmul", "return gen_math_ops.mat_mul("),
    ("deepflow/python/ops/gen_math_ops.py", "mat_mul", "_ops.raise_from_not_ok_status(e, name)"),
    ("deepflow/python/data/ops/dataset_ops.py", "map", "return map_op._map_v2("),
    ("deepflow/python/data/ops/structured_function.py", "__init__", "self._function = fn_factory()"),
    ("deepflow/python/autograph/impl/api.py", "converted_call", "return _call_unconverted(f, args, kwargs, options)"),
    ("deepflow/python/saved_model/save.py", "save", "save_and_return_nodes(obj, export_dir, signatures, options)"),
    (
        "deepflow/python/distribute/mirrored_run.py",
        "call_for_each_replica",
        "return _call_for_each_replica(strategy, fn, args, kwargs)",
    ),
    (
        "deepflow/python/framework/constant_op.py",
        "convert_to_eager_tensor",
        "return ops.EagerTensor(value, ctx.device_name, dtype)",
    ),
    ("deepflow/lite/python/lite.py", "convert", "return self._convert_from_saved_model(graph_def)"),
)
_FAILING_CALLS = (
    "model.fit(ds, epochs=3)",
    "out = f(x)",
    "loaded = df.saved_model.load(path)",
    "y = layer(x)",
    "grads = tape.gradient(loss, model.trainable_variables)",
)
_GLOG_MESSAGES = (
    "I deepflow/core/platform/cpu_feature_guard.cc:182] This DeepFlow binary is optimized to use available CPU "
    "instructions in performance-critical operations.",
    "W deepflow/compiler/df2tensorrt/utils/py_utils.cc:38] DF-TRT Warning: Could not find TensorRT",
    "I deepflow/core/common_runtime/gpu/gpu_device.cc:{n}] Created device /job:localhost/replica:0/task:0/device:"
    "GPU:0 with {mb} MB memory:  -> device: 0, name: NVIDIA A100-SXM4-40GB, pci bus id: 0000:{i}:00.0, "
    "compute capability: 8.0",
    "I external/local_xla/xla/service/service.cc:168] XLA service 0x{hex} initialized for platform CUDA "
    "(this does not guarantee that XLA will be used). Devices:",
    "I external/local_xla/xla/stream_executor/cuda/cuda_dnn.cc:{n}] Loaded cuDNN version 8906",
    "I deepflow/compiler/mlir/mlir_graph_optimization_pass.cc:{n}] MLIR V1 optimization pass is not enabled",
    "W deepflow/core/framework/op_kernel.cc:{n}] OP_REQUIRES failed at conv_ops.cc:{i} : RESOURCE_EXHAUSTED: "
    "OOM when allocating tensor with shape[{b},{d},{d2},64] and type float",
    "I deepflow/core/common_runtime/bfc_allocator.cc:{n}] Bin ({mb}): \tTotal Chunks: {i}, Chunks in use: {i}. "
    "{d}.0KiB allocated for chunks. {d}.0KiB in use in bin. {d2}.0KiB client-requested in use in bin.",
    "I deepflow/core/common_runtime/bfc_allocator.cc:{n}] InUse at 7f{hex} of size {mb} next {i}",
    "I deepflow/core/common_runtime/bfc_allocator.cc:{n}] Free  at 7f{hex} of size {mb} next {i}",
    "W deepflow/core/data/root_dataset.cc:{n}] Optimization loop failed: CANCELLED: Operation was cancelled",
    "I deepflow/core/grappler/optimizers/data/replicate_on_split.cc:32] Running replicate on split optimization",
    "W deepflow/core/kernels/data/cache_dataset_ops.cc:{n}] The calling iterator did not fully read the dataset "
    "being cached. In order to avoid unexpected truncation of the dataset, the partially cached contents will be "
    "discarded.",
    "E external/local_xla/xla/stream_executor/cuda/cuda_driver.cc:{n}] failed call to cuInit: "
    "CUDA_ERROR_NO_DEVICE: no CUDA-capable device is detected",
    "I external/local_xla/xla/service/dump.cc:{n}] Dumping module fused_computation.{i} to /tmp/xla_dump",
    "W deepflow/core/common_runtime/process_function_library_runtime.cc:{n}] Ignoring multi-device function "
    "optimization failure: INVALID_ARGUMENT: Input 0 of node while/enter was passed int32 from range:0",
    "E deepflow/core/util/util.cc:{n}] oneDNN custom operations are on. You may see slightly different numerical "
    "results due to floating-point round-off errors from different computation orders.",
)
_HLO_LINES = (
    "  %param_{i} = f32[{b},{d}]{{1,0}} parameter({i})",
    "  %fusion.{i} = f32[{b},{d}]{{1,0}} fusion(f32[{b},{d}]{{1,0}} %param_0, f32[{d}]{{0}} %param_1), "
    "kind=kLoop, calls=%fused_computation.{i}",
    "  %dot.{i} = f32[{b},{d2}]{{1,0}} dot(f32[{b},{d}]{{1,0}} %p0, f32[{d},{d2}]{{1,0}} %p1), "
    "lhs_contracting_dims={{1}}, rhs_contracting_dims={{0}}",
    "  %broadcast.{i} = f32[{b},{d}]{{1,0}} broadcast(f32[] %constant.{n}), dimensions={{}}",
    "  ROOT %tuple.{i} = (f32[{b},{d}]{{1,0}}, s32[]) tuple(%fusion.{n}, %add.{i})",
    "  %custom-call.{i} = (f32[{b},{d2}]{{1,0}}, s8[{mb}]{{0}}) custom-call(%bitcast.{n}, %bitcast.{i}), "
    'custom_call_target="__cublas$gemm"',
)
# Environments people report, each with the years it shows up in reports: (value, first year, last year).
_ENVIRONMENTS: dict[str, tuple[tuple[str, int, int], ...]] = {
    "os": (
        ("Ubuntu 16.04", 2016, 2019),
        ("Ubuntu 18.04", 2018, 2022),
        ("Ubuntu 20.04", 2020, 2025),
        ("Ubuntu 22.04", 2022, 2025),
        ("Ubuntu 24.04", 2024, 2025),
        ("Debian 12", 2023, 2025),
        ("CentOS 7", 2016, 2022),
        ("Arch Linux", 2016, 2025),
        ("macOS 10.13", 2017, 2019),
        ("macOS 12.6", 2021, 2023),
        ("macOS 14.2 (Apple M2)", 2023, 2025),
        ("Windows 10", 2016, 2025),
        ("Windows 11", 2021, 2025),
        ("Google Colab", 2018, 2025),
        ("WSL2 (Ubuntu 22.04)", 2022, 2025),
    ),
    "gpu": (
        ("NVIDIA K80 12GB", 2016, 2019),
        ("NVIDIA Titan X 12GB", 2016, 2018),
        ("NVIDIA GTX 1080 Ti 11GB", 2017, 2021),
        ("NVIDIA V100 16GB", 2018, 2023),
        ("NVIDIA RTX 2080 Ti 11GB", 2019, 2022),
        ("NVIDIA T4 16GB", 2019, 2025),
        ("NVIDIA A100 40GB", 2020, 2025),
        ("NVIDIA RTX 3090 24GB", 2021, 2025),
        ("NVIDIA RTX 4090 24GB", 2023, 2025),
        ("NVIDIA H100 80GB", 2023, 2025),
        ("no GPU", 2016, 2025),
    ),
    "cuda": (
        ("8.0/5.1", 2016, 2017),
        ("9.0/7.0", 2017, 2019),
        ("10.0/7.4", 2019, 2020),
        ("10.1/7.6", 2019, 2021),
        ("11.2/8.1", 2021, 2023),
        ("11.8/8.6", 2022, 2024),
        ("12.2/8.9", 2023, 2025),
        ("12.3/8.9.7", 2024, 2025),
        ("12.5/9.3", 2024, 2025),
    ),
    "python": (
        ("2.7", 2016, 2019),
        ("3.5", 2016, 2018),
        ("3.6", 2017, 2021),
        ("3.7", 2018, 2022),
        ("3.8", 2020, 2023),
        ("3.9", 2021, 2024),
        ("3.10", 2022, 2025),
        ("3.11", 2023, 2025),
        ("3.12", 2024, 2025),
        ("3.13", 2025, 2025),
    ),
    "bazel": (
        ("0.5.4", 2016, 2018),
        ("0.26.1", 2019, 2020),
        ("3.7.2", 2020, 2021),
        ("5.3.0", 2022, 2023),
        ("6.5.0", 2023, 2025),
    ),
    "gcc": (
        ("5.4.0", 2016, 2018),
        ("7.5.0", 2018, 2021),
        ("9.4.0", 2020, 2023),
        ("11.4.0", 2022, 2025),
        ("clang 17.0.6", 2024, 2025),
    ),
}
_ENVIRONMENTS_BY_YEAR = {
    year: {
        key: tuple(value for value, first, last in options if first <= year <= last)
        for key, options in _ENVIRONMENTS.items()
    }
    for year in range(2016, 2026)
}
_PACKAGES = (
    "absl-py",
    "astunparse",
    "flatbuffers",
    "gast",
    "grpcio",
    "h5py",
    "keras",
    "ml-dtypes",
    "numpy",
    "opt-einsum",
    "packaging",
    "protobuf",
    "scipy",
    "six",
    "deepboard",
    "termcolor",
    "typing-extensions",
    "wrapt",
)

# Releases of the fictional framework: the version label of an issue is the one current when it was filed.
_RELEASES = tuple(
    (version, calendar.timegm((int(year), 1 + int(round((year % 1) * 11)), 15, 0, 0, 0)))
    for version, year in (
        ("0.8", 2015.5),
        ("0.9", 2015.9),
        ("0.12", 2016.8),
        ("1.0", 2017.1),
        ("1.2", 2017.4),
        ("1.4", 2017.85),
        ("1.6", 2018.15),
        ("1.8", 2018.35),
        ("1.10", 2018.6),
        ("1.12", 2018.85),
        ("1.13", 2019.15),
        ("1.14", 2019.45),
        ("2.0", 2019.75),
        ("2.1", 2020.0),
        ("2.2", 2020.35),
        ("2.3", 2020.6),
        ("2.4", 2020.95),
        ("2.5", 2021.4),
        ("2.6", 2021.6),
        ("2.7", 2021.85),
        ("2.8", 2022.1),
        ("2.9", 2022.4),
        ("2.10", 2022.7),
        ("2.11", 2022.9),
        ("2.12", 2023.2),
        ("2.13", 2023.5),
        ("2.14", 2023.7),
        ("2.15", 2023.85),
        ("2.16", 2024.2),
        ("2.17", 2024.55),
        ("2.18", 2024.8),
        ("2.19", 2025.2),
        ("2.20", 2025.6),
        ("2.21", 2025.9),
    )
)
_KERAS3_SINCE = dict(_RELEASES)["2.16"]  # its progress bars are drawn with box characters
_ISSUE_FORMS_SINCE = calendar.timegm((2022, 6, 1, 0, 0, 0))  # before that, the Markdown template with CRLF ends

# name, color, description, GitHub default label
# Kinds of issue with their type label and share; pull requests ("pr") are drawn separately.
_KINDS = {
    "bug": ("type:bug", "159b2e", "Bug", 0.56),
    "feature": ("type:feature", "a2eeef", "Feature requests", 0.12),
    "support": ("type:support", "c5def5", "Support issues", 0.13),
    "performance": ("type:performance", "fbca04", "Performance Issue", 0.06),
    "docs": ("type:docs-bug", "0e8a16", "Document issues", 0.06),
    "build": ("type:build/install", "d4c5f9", "Build and install issues", 0.07),
}
_BUG_KINDS = ("bug", "performance", "build")
_OTHER_LABELS = (
    ("stat:awaiting response", "f9d0c4", "Status - Awaiting response from author", False),
    ("stat:awaiting deepflower", "f9d0c4", "Status - Awaiting response from the DeepFlow team", False),
    ("stat:contribution welcome", "f9d0c4", "Status - Contributions welcome", False),
    ("stale", "ededed", "Marks the issue/pr stale - to be closed automatically if no activity", False),
    ("stalled", "ededed", "Closed because of no activity for 28 days", False),
    ("regression issue", "b60205", "To spot regression issues in latest version", False),
    ("Fixed in Nightly", "0e8a16", "Issues fixed in the nightly build", False),
    ("good first issue", "7057ff", "Good for newcomers", True),
    ("duplicate", "cfd3d7", "This issue or pull request already exists", True),
    ("ready to pull", "2cd643", "PR ready for merge process", False),
    ("awaiting review", "bfdadc", "Pull request awaiting review", False),
    ("size:S", "adafea", "CL Change Size: Small", False),
    ("size:M", "adafea", "CL Change Size: Medium", False),
)
_COMPONENT_DESCRIPTIONS = {
    "comp:keras": "Keras related issues",
    "comp:data": "df.data related issues",
    "comp:ops": "OPs related issues",
    "comp:xla": "XLA",
    "comp:autograph": "AutoGraph related issues",
    "comp:dist-strat": "Distribution Strategy related issues",
    "comp:apis": "Highlevel API related issues",
    "comp:lite": "DF Lite related issues",
    "comp:gpu": "GPU related issues",
}

_BOT_LOGIN = "github-actions[bot]"


# --- Small helpers ----------------------------------------------------------------------------------------------


def _timestamp(seconds: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))


def _node_id(kind: str, number: int) -> str:
    """GitHub's legacy global node ids: base64 of "<len>:<Type><id>"."""
    return base64.b64encode(f"{len(kind):02d}:{kind}{number}".encode()).decode()


def _user(login: str, user_id: int, kind: str = "User") -> dict[str, Any]:
    url = f"{API}/users/{quote(login)}"
    return {
        "login": login,
        "id": user_id,
        "node_id": _node_id("Bot" if kind == "Bot" else "User", user_id),
        "avatar_url": f"https://avatars.githubusercontent.com/u/{user_id}?v=4",
        "gravatar_id": "",
        "url": url,
        "html_url": f"{WEB}/{'apps/github-actions' if kind == 'Bot' else login}",
        "followers_url": f"{url}/followers",
        "following_url": f"{url}/following{{/other_user}}",
        "gists_url": f"{url}/gists{{/gist_id}}",
        "starred_url": f"{url}/starred{{/owner}}{{/repo}}",
        "subscriptions_url": f"{url}/subscriptions",
        "organizations_url": f"{url}/orgs",
        "repos_url": f"{url}/repos",
        "events_url": f"{url}/events{{/privacy}}",
        "received_events_url": f"{url}/received_events",
        "type": kind,
        "site_admin": False,
    }


def _reactions(url: str, rng: random.Random) -> dict[str, Any]:
    counts = dict.fromkeys(("+1", "-1", "laugh", "hooray", "confused", "heart", "rocket", "eyes"), 0)
    if rng.random() < 0.25:
        counts["+1"] = int(rng.paretovariate(1.6))
        if rng.random() < 0.3:
            counts[rng.choice(("heart", "eyes", "rocket", "hooray", "confused", "-1", "laugh"))] = rng.randint(1, 4)
    return {"url": url, "total_count": sum(counts.values()), **counts}


class _Fragments:
    """Markdown fragments of bug reports, comments and logs, filled from one issue's context."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        # Pre-built log lines: long logs are slices of these, so megabytes cost little.
        self.glog = [self._fill(rng.choice(_GLOG_MESSAGES), self.numbers()) for _ in range(3_000)]
        self.glog_times = [
            f"{h:02d}:{m:02d}:{s:02d}.{rng.randrange(1_000_000):06d}: "
            for h, m, s in sorted((rng.randrange(24), rng.randrange(60), rng.randrange(60)) for _ in range(3_000))
        ]
        self.hlo = [self._fill(rng.choice(_HLO_LINES), self.numbers()) for _ in range(1_500)]

    def numbers(self) -> dict[str, Any]:
        rng = self.rng
        return {
            "b": rng.choice((1, 8, 16, 32, 64, 128, 256, 512)),
            "b2": rng.choice((7, 10, 31, 33, 100)),
            "d": rng.choice((3, 10, 64, 128, 256, 300, 512, 768, 1024, 4096)),
            "d2": rng.choice((5, 28, 32, 224, 1000, 2048)),
            "i": rng.randrange(1, 40),
            "n": rng.randrange(40, 2_000),
            "mb": rng.choice((256, 512, 1024, 14_615, 22_308, 38_246)),
            "hex": f"{rng.getrandbits(40):010x}",
        }

    @staticmethod
    def _fill(template: str, values: dict[str, Any]) -> str:
        return template.format_map(values)

    # --- prose

    def sentences(self, pool: tuple[str, ...], context: dict[str, Any], count: int) -> str:
        return " ".join(self._fill(template, context) for template in self.rng.sample(pool, min(count, len(pool))))

    def paragraphs(self, pool: tuple[str, ...], context: dict[str, Any], count: int) -> str:
        # Sampled once for the whole text, so no sentence repeats.
        chosen = [self._fill(template, context) for template in self.rng.sample(pool, min(3 * count, len(pool)))]
        cuts = sorted(self.rng.sample(range(1, len(chosen)), min(count, len(chosen)) - 1)) if count > 1 else []
        return "\n\n".join(" ".join(chosen[a:b]) for a, b in zip([0, *cuts], [*cuts, len(chosen)], strict=True))

    # --- code

    def code(self, context: dict[str, Any]) -> str:
        rng = self.rng
        lines = ["import deepflow as df", "import numpy as np", ""]
        if rng.random() < 0.3:
            lines.insert(0, "import os")
            lines.insert(1, f'os.environ["DF_CPP_MIN_LOG_LEVEL"] = "{rng.randint(0, 3)}"')
        lines.append(f"print(df.__version__)  # {context['full_version']}")
        lines.append("")
        lines.extend(rng.choice(_SNIPPETS)(rng, context))
        return "\n".join(lines)

    def traceback(self, context: dict[str, Any]) -> str:
        rng = self.rng
        site = context["site_packages"]
        lines = [
            "Traceback (most recent call last):",
            f'  File "{context["script"]}", line {rng.randint(8, 60)}, in <module>',
            f"    {rng.choice(_FAILING_CALLS)}",
        ]
        for path, function, source in rng.sample(_TRACEBACK_FRAMES, rng.randint(2, 8)):
            lines.append(f'  File "{site}{path}", line {rng.randint(40, 2400)}, in {function}')
            lines.append(f"    {source}")
        error, message = context["error"]
        lines.append(f"{error}: {message}")
        return "\n".join(lines)

    def glog_lines(self, date: str, size: int) -> list[str]:
        """Consecutive C++ log lines (about `size` characters) of the framework's runtime."""
        start = self.rng.randrange(len(self.glog))
        count = max(1, size // 150)
        return [
            f"{date} {self.glog_times[(start + k) % len(self.glog)]}{self.glog[(start + k) % len(self.glog)]}"
            for k in range(count)
        ]

    def hlo_lines(self, size: int) -> list[str]:
        start = self.rng.randrange(len(self.hlo))
        count = max(1, size // 110)
        lines = [f"HloModule jit_train_step_{start}, entry_computation_layout={{(f32[32,784]{{1,0}})->f32[]}}", ""]
        lines.extend(self.hlo[(start + k) % len(self.hlo)] for k in range(count))
        return lines

    def training_lines(self, size: int, keras3: bool) -> list[str]:
        rng = self.rng
        epochs = max(1, size // 260)
        steps = rng.choice((63, 100, 469, 938, 1875, 3125))
        step_ms = rng.randint(2, 400)
        loss, accuracy = rng.uniform(0.8, 2.5), rng.uniform(0.1, 0.5)
        nan_from = rng.randrange(epochs) if rng.random() < 0.4 else epochs
        lines = []
        for epoch in range(1, epochs + 1):
            loss *= rng.uniform(0.7, 1.02)
            accuracy = min(0.999, accuracy + rng.uniform(0, 0.08))
            shown = "nan" if epoch > nan_from else f"{loss:.4f}"
            seconds = steps * step_ms // 1000
            bar = "━━━━━━━━━━━━━━━━━━━━" if keras3 else "[==============================]"
            lines.append(f"Epoch {epoch}/{epochs}")
            lines.append(
                f"{steps}/{steps} {bar} {seconds}s {step_ms}ms/step - accuracy: {accuracy:.4f} - loss: {shown}"
                f" - val_accuracy: {accuracy * 0.97:.4f} - val_loss: {loss * 1.1:.4f}"
            )
        return lines

    def pip_list(self, context: dict[str, Any]) -> str:
        rng = self.rng
        lines = ["$ pip list | grep -i -E 'deepflow|keras|numpy|protobuf'", "Package                      Version"]
        lines.append("---------------------------- ------------")
        for name in sorted(rng.sample(_PACKAGES, rng.randint(4, 12)) + ["deepflow"]):
            version = f"{rng.randint(0, 5)}.{rng.randint(0, 30)}.{rng.randint(0, 9)}"
            if name == "deepflow":
                version = context["full_version"]
            lines.append(f"{name:<28} {version}")
        return "\n".join(lines)

    def nvidia_smi(self, context: dict[str, Any]) -> str:
        rng = self.rng
        used, total = rng.randint(300, 38_000), rng.choice((16_384, 24_576, 40_960, 81_559))
        return "\n".join(
            (
                "$ nvidia-smi",
                "+---------------------------------------------------------------------------------------+",
                f"| NVIDIA-SMI 535.{rng.randint(40, 160)}.0{rng.randint(1, 9)}   "
                f"Driver Version: 535.{rng.randint(40, 160)}.0{rng.randint(1, 9)}   "
                f"CUDA Version: {context['cuda'].split('/')[0]}     |",
                "|-----------------------------------------+----------------------+----------------------+",
                "| GPU  Name                 Persistence-M | Bus-Id        Disp.A | Volatile Uncorr. ECC |",
                "| Fan  Temp   Perf          Pwr:Usage/Cap |         Memory-Usage | GPU-Util  Compute M. |",
                "|=========================================+======================+======================|",
                f"|   0  {context['gpu'][:22]:<22}        On  | 00000000:{rng.randint(10, 99)}:00.0 Off |"
                "                    0 |",
                f"| N/A   {rng.randint(30, 80)}C    P0    {rng.randint(40, 300)}W / 300W |"
                f"  {used:>6}MiB / {total}MiB |     {rng.randint(0, 100):>3}%      Default |",
                "+-----------------------------------------+----------------------+----------------------+",
            )
        )

    def table(self, context: dict[str, Any]) -> str:
        rng = self.rng
        old, new = context["old_version"], context["version"]
        lines = [f"| batch size | {old} (ms/step) | {new} (ms/step) | change |", "|---:|---:|---:|---:|"]
        for batch in (1, 8, 32, 128, 512)[: rng.randint(3, 5)]:
            before = rng.uniform(1, 120)
            after = before * rng.uniform(0.8, 3.5)
            lines.append(f"| {batch} | {before:.1f} | {after:.1f} | {100 * (after / before - 1):+.0f}% |")
        return "\n".join(lines)

    def log(self, context: dict[str, Any], size: int) -> str:
        """A log block of roughly `size` characters: a traceback and whatever the runtime printed around it."""
        rng = self.rng
        parts = [self.traceback(context)] if context["has_error"] else []
        length = len(parts[0]) if parts else 0
        while length < size:
            kind = rng.random()
            chunk_size = min(size - length, rng.choice((600, 2_000, 8_000, 40_000)) if size < 100_000 else size)
            if kind < 0.5:
                chunk = "\n".join(self.glog_lines(context["date"], chunk_size))
            elif kind < 0.75:
                chunk = "\n".join(self.training_lines(chunk_size, context["keras3"]))
            elif kind < 0.85:
                chunk = "\n".join(self.hlo_lines(chunk_size))
            elif kind < 0.93:
                chunk = self.pip_list(context)
            else:
                chunk = self.nvidia_smi(context)
            parts.insert(rng.randint(0, len(parts)), chunk)  # the traceback is not always last
            length += len(chunk) + 1
        return "\n".join(parts)


# --- Code snippets ----------------------------------------------------------------------------------------------


def _snippet_model(rng: random.Random, context: dict[str, Any]) -> list[str]:
    units = rng.choice((16, 32, 64, 128, 256))
    lines = [
        f"x = np.random.rand({rng.choice((100, 1000, 4096))}, {context['d']}).astype(np.{context['dtype']})",
        f"y = np.random.randint(0, {rng.randint(2, 10)}, size=(len(x),))",
        "",
        "model = df.keras.Sequential([",
        f"    df.keras.layers.Input(shape=({context['d']},)),",
    ]
    for _ in range(rng.randint(1, 5)):
        layer = rng.choice(
            (
                f'    df.keras.layers.Dense({units}, activation="relu"),',
                "    df.keras.layers.BatchNormalization(),",
                f"    df.keras.layers.Dropout({rng.choice((0.1, 0.2, 0.5))}),",
                f"    df.keras.layers.Dense({units}, kernel_regularizer=df.keras.regularizers.l2(1e-4)),",
                "    df.keras.layers.LayerNormalization(epsilon=1e-6),",
            )
        )
        lines.append(layer)
    lines += [
        "    df.keras.layers.Dense(10),",
        "])",
        "model.compile(",
        f"    optimizer=df.keras.optimizers.{rng.choice(('Adam', 'SGD', 'AdamW', 'RMSprop'))}"
        f"(learning_rate={rng.choice(('1e-3', '3e-4', '0.01'))}),",
        "    loss=df.keras.losses.SparseCategoricalCrossentropy(from_logits=True),",
        '    metrics=["accuracy"],',
        ")",
        f"history = model.fit(x, y, batch_size={context['b']}, epochs={rng.randint(1, 20)}, validation_split=0.1)",
        'print(history.history["loss"])',
    ]
    return lines


def _snippet_layer(rng: random.Random, context: dict[str, Any]) -> list[str]:
    return [
        f"class {context['cls']}(df.keras.layers.Layer):",
        "    def __init__(self, units=32, **kwargs):",
        "        super().__init__(**kwargs)",
        "        self.units = units",
        "",
        "    def build(self, input_shape):",
        '        self.w = self.add_weight(shape=(input_shape[-1], self.units), initializer="glorot_uniform")',
        '        self.b = self.add_weight(shape=(self.units,), initializer="zeros")',
        "",
        "    def call(self, inputs, training=None):",
        "        out = df.matmul(inputs, self.w) + self.b",
        "        if training:",
        f"            out = df.nn.dropout(out, rate={rng.choice((0.1, 0.3, 0.5))})",
        "        return out",
        "",
        f"layer = {context['cls']}({rng.choice((8, 16, 64))})",
        f"x = df.random.normal(({context['b']}, {context['d']}))",
        "print(layer(x, training=True).shape)",
        "print(layer(x, training=False).shape)",
        f"print(layer.compute_output_shape(({context['b']}, {context['d']})))",
    ]


def _snippet_data(rng: random.Random, context: dict[str, Any]) -> list[str]:
    return [
        "def parse(record):",
        "    features = {",
        '        "image": df.io.FixedLenFeature([], df.string),',
        '        "label": df.io.FixedLenFeature([], df.int64),',
        "    }",
        "    example = df.io.parse_single_example(record, features)",
        '    image = df.io.decode_jpeg(example["image"], channels=3)',
        f"    image = df.image.resize(image, ({context['d2']}, {context['d2']}))",
        '    return image, example["label"]',
        "",
        f'files = df.data.Dataset.list_files("gs://bucket/train-*.dfrecord", shuffle={rng.choice(("True", "False"))})',
        "ds = files.interleave(df.data.DFRecordDataset, cycle_length=8, num_parallel_calls=df.data.AUTOTUNE)",
        "ds = ds.map(parse, num_parallel_calls=df.data.AUTOTUNE)",
        f"ds = ds.{rng.choice(('cache()', 'shuffle(10_000)', 'repeat()', 'cache().shuffle(1024)'))}",
        f"ds = ds.batch({context['b']}, drop_remainder={rng.choice(('True', 'False'))}).prefetch(df.data.AUTOTUNE)",
        "",
        "for i, (images, labels) in enumerate(ds.take(3)):",
        "    print(i, images.shape, labels.numpy()[:5])",
    ]


def _snippet_tape(rng: random.Random, context: dict[str, Any]) -> list[str]:
    op = rng.choice(("df.math.log(x)", "df.sqrt(x)", "df.norm(x)", "df.math.reduce_logsumexp(x)", "x ** 0.5"))
    return [
        f"x = df.Variable(df.zeros(({context['b']}, {context['d']}), dtype=df.{context['dtype']}))",
        "",
        "with df.GradientTape() as tape:",
        f"    y = {op}",
        "    loss = df.reduce_mean(y)",
        "",
        "grad = tape.gradient(loss, x)",
        "print(grad)  # expected finite values",
        "print(df.reduce_any(df.math.is_nan(grad)))",
    ]


def _snippet_xla(rng: random.Random, context: dict[str, Any]) -> list[str]:
    return [
        "def step(a, b):",
        f"    c = df.linalg.matmul(a, b, transpose_b={rng.choice(('True', 'False'))})",
        "    return df.nn.softmax(c, axis=-1)",
        "",
        "eager = step",
        "compiled = df.function(step, jit_compile=True)",
        "",
        f"a = df.random.normal(({context['b']}, {context['d']}), seed={rng.randint(0, 99)})",
        f"b = df.random.normal(({context['b']}, {context['d']}), seed={rng.randint(0, 99)})",
        "diff = np.abs(eager(a, b).numpy() - compiled(a, b).numpy())",
        'print("max abs diff:", diff.max())  # ' + rng.choice(("1e-7 on CPU, 0.03 on GPU", "nan", "0.25")),
    ]


def _snippet_distribute(rng: random.Random, context: dict[str, Any]) -> list[str]:
    return [
        f'gpus = df.config.list_physical_devices("GPU")  # {rng.randint(2, 8)} x {context["gpu"]}',
        "for gpu in gpus:",
        "    df.config.experimental.set_memory_growth(gpu, True)",
        "",
        "strategy = df.distribute.MirroredStrategy()",
        'print("replicas:", strategy.num_replicas_in_sync)',
        "with strategy.scope():",
        "    model = df.keras.applications.ResNet50(weights=None, classes=10)",
        '    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")',
        "",
        "ds = df.data.Dataset.from_tensor_slices((np.zeros((512, 224, 224, 3)), np.zeros(512)))",
        f"ds = ds.batch({context['b']})",
        "model.fit(ds, epochs=2)",
    ]


def _snippet_saving(rng: random.Random, context: dict[str, Any]) -> list[str]:
    path = rng.choice(("/tmp/model.keras", "saved_model/1", "/content/drive/MyDrive/ckpt", "model.h5"))
    return [
        "inputs = df.keras.Input(shape=(None,), dtype=df.int32)",
        f"x = df.keras.layers.Embedding({rng.choice((1000, 30_000, 50_257))}, {context['d']})(inputs)",
        f"x = {context['cls']}()(x)",
        "outputs = df.keras.layers.GlobalAveragePooling1D()(x)",
        "model = df.keras.Model(inputs, outputs)",
        "",
        f'model.save("{path}")',
        f'restored = df.keras.models.load_model("{path}", custom_objects={{"{context["cls"]}": {context["cls"]}}})',
        "",
        "sample = np.array([[1, 2, 3, 4]])",
        "np.testing.assert_allclose(model(sample), restored(sample))  # fails",
    ]


def _snippet_lite(rng: random.Random, context: dict[str, Any]) -> list[str]:
    return [
        'converter = df.lite.Converter.from_saved_model("exported")',
        "converter.optimizations = [df.lite.Optimize.DEFAULT]",
        "converter.target_spec.supported_ops = [",
        "    df.lite.OpsSet.BUILTINS,",
        "    df.lite.OpsSet.SELECT_DF_OPS,",
        "]",
        "tflite_model = converter.convert()",
        "",
        "interpreter = df.lite.Interpreter(model_content=tflite_model)",
        "interpreter.allocate_tensors()",
        f'print(interpreter.get_input_details()[0]["shape"])  # expected [1 {context["d2"]} {context["d2"]} 3]',
    ]


_SNIPPETS = (
    _snippet_model,
    _snippet_model,
    _snippet_layer,
    _snippet_data,
    _snippet_tape,
    _snippet_xla,
    _snippet_distribute,
    _snippet_saving,
    _snippet_lite,
)


# --- Prose ------------------------------------------------------------------------------------------------------

_BEHAVIOUR = (
    "`{api}` {problem} {condition}.",
    "When I call `{api}` {condition}, the result is wrong without any warning or error.",
    "The same code worked fine on DeepFlow {old_version}, so this looks like a regression in {version}.",
    "I expected the output to have shape `({b}, {d})` but got `({b}, {d2})`.",
    "The loss goes to `nan` after about {n} steps, while the eager version trains normally.",
    "Memory usage grows by roughly {mb} MB per epoch until the process is killed.",
    "With `DF_DETERMINISTIC_OPS=1` the two runs still differ in the {i}th decimal place.",
    "On CPU everything is fine; on the {gpu} the values are off by up to {factor}x.",
    "I reduced my model to the snippet below, which reproduces the problem in a fresh Colab runtime.",
    "There is no error, the model just stops learning: accuracy stays at chance level.",
    "The docs for [`{api_short}`]({docs_url}) say the argument is supported, but it seems to be ignored.",
    "Disabling XLA (`jit_compile=False`) makes the problem go away.",
    "It only happens when the batch size is not a multiple of {b2}.",
    "The first call is fine, the second call with a different batch size retraces and then fails.",
    "I also tried the nightly (`{nightly}`) and the issue is still there.",
    "Setting `df.config.run_functions_eagerly(True)` hides the bug, which makes it hard to debug.",
    "Here is a [Colab gist]({gist_url}) that reproduces it.",
    "This might be related to #{other_number}, but that one was closed as fixed.",
    "The process exits with `Segmentation fault (core dumped)` and no Python traceback.",
    "`{api}` takes {ms} ms per call here compared with {ms2} ms in {old_version}.",
)
_EXPECTED = (
    "I expected `{api}` to give the same result as the NumPy reference implementation.",
    "The output should match eager execution up to floating point tolerance.",
    "Training should behave the same way as on {old_version}.",
    "An informative error message would already help a lot.",
    "The saved model should load back with identical weights.",
    "Memory usage should stay flat across epochs.",
)
_FEATURE_TEXT = (
    "It would be great if `{api}` supported {feature}.",
    "Currently the only way to get this is to write a custom op, which is a lot of work for most users.",
    "PyTorch and JAX both offer this already, so porting models to DeepFlow is harder than it needs to be.",
    "I am happy to contribute a PR if the team agrees on the API.",
    "The change would be backwards compatible: the new argument defaults to the current behaviour.",
    "A possible API: `{api_short}(..., {arg}=True)`.",
    "See the discussion in #{other_number} for some context.",
)
_BENEFIT_TEXT = (
    "Everyone who trains {comp_name} models on {gpu}-class hardware.",
    "Researchers porting models from other frameworks.",
    "Users of `{api_short}` with large inputs.",
    "Anybody deploying models to mobile or edge devices.",
)
_SUPPORT_TEXT = (
    "I am trying to {task} but cannot find an example in the docs.",
    "I read the [guide]({docs_url}) but it only covers the simple case.",
    "My setup: DeepFlow {full_version}, Python {python}, {os}.",
    "What is the recommended way to do this with `{api}`?",
    "Is this supported at all {condition}?",
    "Any pointer would be appreciated, thanks!",
    "I tried the approach from #{other_number}, but it does not work for me.",
)
_DOCS_TEXT = (
    "The example in the documentation of [`{api_short}`]({docs_url}) does not run on {version}.",
    "The docstring says the default is `{arg}=True`, but the code uses `False`.",
    "The page still refers to an argument that was removed in {old_version}.",
    "There is a broken link at the end of the {comp_name} guide.",
    "It would help to mention that the function is not supported {condition}.",
)
_BUILD_TEXT = (
    "Building from source at commit {commit} fails on {os} with the error below.",
    "`pip install deepflow=={full_version}` succeeds, but importing it fails.",
    "I followed the [build instructions]({docs_url}) step by step.",
    "Bazel version {bazel}, GCC {gcc}, CUDA {cuda}.",
    "The wheel for Python {python} seems to be missing from PyPI.",
)
_PR_OPENING = "This PR fixes the problem reported in #{other_number}: `{api}` {problem} {condition}."
_PR_TEXT = (
    "The kernel did not handle the case where the inner dimension is not a multiple of {b2}.",
    "I added a regression test that fails before this change and passes after it.",
    "Benchmarks on {gpu} show no slowdown.",
    "This also removes a redundant copy to host memory.",
    "cc @{maintainer} who reviewed the original change.",
)
_COMMENT_TEXT = {
    "triage": (
        "@{author} Could you please share a minimal standalone code snippet that reproduces the issue?",
        "Hi @{author}, thanks for the report. Could you check whether it also happens with the nightly build?",
        "@{author} Please try with the latest version ({version}) and let us know if the issue persists.",
        "I was able to reproduce the issue with DeepFlow {version}. Here is the [gist]({gist_url}).",
        "Thanks for the detailed report, I can reproduce it on {gpu} but not on CPU.",
        "Assigning to @{maintainer} who owns the {comp_name} code.",
    ),
    "reply": (
        "Thanks for looking into this! Here is a smaller example:",
        "Yes, it still happens with `{nightly}`.",
        "I can confirm this on {os} with {gpu}.",
        "Same problem here, any workaround?",
        "Sorry for the late reply. I updated the gist with the full log.",
        "As a workaround, setting `{arg}=False` avoids the crash for me.",
        "Any update on this? It is blocking our upgrade to {version}.",
    ),
    "close": (
        "This was fixed by {commit_url} and is included in {next_version}. Closing, please reopen if it persists.",
        "Closing as this is working as intended: `{api}` requires a static batch dimension under XLA.",
        "Duplicate of #{other_number}.",
        "Glad it works now. Closing the issue.",
    ),
    "bot": (
        "This issue is stale because it has been open for 7 days with no activity. It will be closed if no "
        "further activity occurs. Thank you.",
        "This issue was closed because it has been inactive for 7 days since being marked as stale. Please "
        "reopen if you'd like to work on this further.",
    ),
}


# --- The generator ----------------------------------------------------------------------------------------------


class _Synthesizer:
    def __init__(self, repo: str, comments: float, seed: int) -> None:
        self.rng = random.Random(seed)
        self.repo = repo
        self.api_repo = f"{API}/repos/{repo}"
        self.web_repo = f"{WEB}/{repo}"
        self.comments_per_issue = comments
        self.text = _Fragments(self.rng)
        people = self._people()
        self.maintainers = people[-30:]
        self.reporters = people[:-30]
        # Zipf-like: a few people file many issues, most people one or two.
        self.reporter_weights = list(itertools.accumulate(1 / (rank + 5) for rank in range(len(self.reporters))))
        self.association = {
            person["login"]: "CONTRIBUTOR" if self.rng.random() < 0.2 else "NONE" for person in self.reporters
        }
        self.bot = _user(_BOT_LOGIN, 41_898_282, "Bot")
        self.labels = self._labels()
        self.milestones = self._milestones()
        self.last_issue_id = 0
        self.last_comment_id = 0

    # --- fixed per dump

    def _people(self) -> list[dict[str, Any]]:
        rng = self.rng
        logins: dict[str, None] = {}
        while len(logins) < PEOPLE:
            first, last = rng.choice(_FIRST_NAMES), rng.choice(_LAST_NAMES)
            login = rng.choice(
                (
                    f"{first}{last}",
                    f"{first[0]}{last}",
                    f"{first}-{last}",
                    f"{first}{rng.randint(1, 2024)}",
                    f"{last}{first[0]}",
                    f"{first}-{rng.choice(_LOGIN_SUFFIXES)}",
                    f"{first.capitalize()}{last.capitalize()}",
                    f"{first}{last[:3]}{rng.randint(0, 99)}",
                )
            )
            logins[login] = None
        return [_user(login, rng.randint(1_000, 190_000_000)) for login in logins]

    def _label(self, name: str, color: str, description: str, default: bool) -> dict[str, Any]:
        label_id = self.rng.randint(100_000_000, 6_000_000_000)
        return {
            "id": label_id,
            "node_id": _node_id("Label", label_id),
            "url": f"{self.api_repo}/labels/{quote(name, safe=':')}",
            "name": name,
            "color": color,
            "default": default,
            "description": description,
        }

    def _labels(self) -> dict[str, dict[str, Any]]:
        labels = {name: self._label(name, color, text, False) for name, color, text, _ in _KINDS.values()}
        labels.update(
            {name: self._label(name, "0052cc", text, False) for name, text in _COMPONENT_DESCRIPTIONS.items()}
        )
        labels.update({name: self._label(name, color, text, default) for name, color, text, default in _OTHER_LABELS})
        for version, _ in _RELEASES:
            name = f"deepflow {version}"
            labels[name] = self._label(name, "e79b38", f"Issues related to DeepFlow {version}", False)
        return labels

    def _milestones(self) -> list[dict[str, Any]]:
        milestones = []
        for number, (version, released) in enumerate(_RELEASES[-12:], start=1):
            milestone_id = self.rng.randint(3_000_000, 11_000_000)
            url = f"{self.api_repo}/milestones/{number}"
            milestones.append(
                {
                    "url": url,
                    "html_url": f"{self.web_repo}/milestone/{number}",
                    "labels_url": f"{url}/labels",
                    "id": milestone_id,
                    "node_id": _node_id("Milestone", milestone_id),
                    "number": number,
                    "title": f"DeepFlow {version}",
                    "description": f"Issues to fix before the {version} release.",
                    "creator": self.maintainers[number % len(self.maintainers)],
                    "open_issues": self.rng.randint(0, 12),
                    "closed_issues": self.rng.randint(10, 300),
                    "state": "closed" if released < LAST_CREATED - 90 * DAY else "open",
                    "created_at": _timestamp(released - 120 * DAY),
                    "updated_at": _timestamp(released + 20 * DAY),
                    "due_on": _timestamp(released),
                    "closed_at": _timestamp(released + 20 * DAY) if released < LAST_CREATED - 90 * DAY else None,
                }
            )
        return milestones

    # --- per issue

    def _someone(self) -> dict[str, Any]:
        return self.rng.choices(self.reporters, cum_weights=self.reporter_weights)[0]

    def _release(self, created: int) -> int:
        index = 0
        for position, (_, released) in enumerate(_RELEASES):
            if released > created:
                break
            index = position
        return max(1, index - (self.rng.random() < 0.25))

    def _context(self, number: int, created: int, author: dict[str, Any], kind: str) -> dict[str, Any]:
        rng = self.rng
        api, component, comp_name = rng.choice(_APIS)
        release = self._release(created)
        version = _RELEASES[release][0]
        old_version = _RELEASES[max(0, release - rng.randint(1, 3))][0]
        next_version = _RELEASES[min(len(_RELEASES) - 1, release + 1)][0]
        environment = {
            key: rng.choice(values) for key, values in _ENVIRONMENTS_BY_YEAR[time.gmtime(created).tm_year].items()
        }
        windows = environment["os"].startswith("Windows")
        login = author["login"]
        context = {
            **self.text.numbers(),
            "api": api,
            "api_short": api.split("(")[0],
            "component": component,
            "comp_name": comp_name,
            "problem": rng.choice(_PROBLEMS),
            "feature": rng.choice(_FEATURES),
            "task": rng.choice(_TASKS),
            "arg": rng.choice(("training", "use_bias", "jit_compile", "reduce_retracing", "deterministic", "axis")),
            "cls": rng.choice(("MyLayer", "Attention", "ResidualBlock", "PositionalEmbedding", "GatedDense")),
            "dtype": rng.choice(("float32", "float32", "float16", "float64", "int32")),
            "version": version,
            "old_version": old_version,
            "next_version": next_version,
            "full_version": f"{version}.{rng.choice((0, 0, 0, 1, 2))}",
            "nightly": f"df-nightly {next_version}.0-dev{_timestamp(created)[:10].replace('-', '')}",
            **environment,
            "ms": rng.randint(2, 900),
            "ms2": rng.randint(1, 300),
            "factor": rng.choice((2, 3, 5, 10, 100)),
            "author": login,
            "maintainer": rng.choice(self.maintainers)["login"],
            "other_number": rng.randint(1, max(2, number - 1)),
            "commit": f"{rng.getrandbits(160):040x}",
            "date": _timestamp(created)[:10],
            "keras3": created > _KERAS3_SINCE,
            "has_error": kind in ("bug", "build") and rng.random() < 0.8,
            "docs_url": f"https://www.deepflow.dev/api_docs/python/{api.split('(')[0].replace('.', '/')}",
            "gist_url": f"https://colab.research.google.com/gist/{login}/{rng.getrandbits(128):032x}/"
            f"issue_{number}.ipynb",
            "script": (
                f"C:\\Users\\{login}\\Desktop\\repro.py" if windows else f"/home/{login.lower()}/repro_{number}.py"
            ),
            "site_packages": (
                f"C:\\Users\\{login}\\anaconda3\\envs\\df\\lib\\site-packages\\"
                if windows
                else f"/usr/local/lib/python{environment['python']}/dist-packages/"
            ),
        }
        context["condition"] = rng.choice(_CONDITIONS).format_map(context)
        context["commit_url"] = f"{self.web_repo}/commit/{context['commit']}"
        error, message = rng.choice(_ERRORS)
        context["error"] = (error, message.format_map(context))
        return context

    def _title(self, kind: str, context: dict[str, Any]) -> str:
        rng = self.rng
        templates = {
            "bug": (
                "{api_short} {problem} {condition}",
                "{api_short} {problem}",
                "[{comp_name}] {api_short} {problem} {condition}",
                "{error_short} when calling {api_short} {condition}",
                "Regression in {version}: {api_short} {problem}",
                "Segmentation fault in {api_short} with {dtype} inputs",
                "Memory leak when calling {api_short} in a loop",
                "NaN loss after upgrading to DeepFlow {version}",
                "Different results on CPU and GPU for {api_short}",
                "{api_short} ignores `{arg}` {condition}",
            ),
            "feature": (
                "Support {feature} in {api_short}",
                "Feature request: {feature} for {comp_name}",
                "Add `{arg}` argument to {api_short}",
                "[{comp_name}] {feature}",
            ),
            "support": ("How to {task}?", "Question: how to {task} with {api_short}", "Unable to {task}"),
            "performance": (
                "{api_short} is {factor}x slower in {version} than in {old_version}",
                "Slow {api_short} on {gpu}",
                "High memory usage with {api_short} {condition}",
            ),
            "docs": (
                "Documentation of {api_short} is outdated",
                "Docs: example for {api_short} does not run on {version}",
                "Broken link in the {comp_name} guide",
                "Typo in {api_short} docstring",
            ),
            "build": (
                "Build from source fails with GCC {gcc} on {os}",
                "Cannot import deepflow {full_version} on {os}",
                "pip install deepflow=={full_version} fails on Python {python}",
                "DLL load failed while importing _pywrap_deepflow_internal",
            ),
            "pr": (
                "Fix {api_short} {problem} {condition}",
                "[XLA:GPU] Handle non-contiguous layouts in {api_short}",
                "[{comp_name}] Add {feature}",
                "Update {api_short} docstring",
                "Bump protobuf from 3.20.3 to 4.25.{i} in /deepflow/tools/pip_package",
            ),
        }[kind]
        context["error_short"] = context["error"][0].rsplit(".", 1)[-1]
        return rng.choice(templates).format_map(context)

    def _body_size(self, giant: bool) -> int:
        rng = self.rng
        if giant:
            return int(math.exp(rng.uniform(math.log(300_000), math.log(1_000_000))))
        if rng.random() < LONG_LOG_SHARE:
            return int(math.exp(rng.uniform(math.log(20_000), math.log(60_000))))
        return int(min(19_000, max(40, rng.lognormvariate(math.log(BODY_MEDIAN), BODY_SIGMA))))

    def _body(self, kind: str, context: dict[str, Any], size: int, created: int) -> str:
        rng, text = self.rng, self.text
        if kind == "pr":
            body = self._pull_request_body(context, size)
        elif size < 500 or kind == "support" or (kind == "bug" and rng.random() < 0.12):
            body = self._free_form_body(kind, context, size)
        elif kind == "feature":
            body = "\n\n".join(
                (
                    f"**System information**\n- DeepFlow version (you are using): {context['full_version']}\n"
                    f"- Are you willing to contribute it (Yes/No): {rng.choice(('Yes', 'No'))}",
                    "**Describe the feature and the current behavior/state.**\n\n"
                    + text.paragraphs(_FEATURE_TEXT, context, rng.randint(1, 3)),
                    "**Will this change the current api? How?**\n\n" + rng.choice(("Yes", "No", "Not really.")),
                    "**Who will benefit with this feature?**\n\n" + text.sentences(_BENEFIT_TEXT, context, 1),
                    "**Any Other info.**\n\n"
                    + ("```python\n" + text.code(context) + "\n```" if size > 1_500 else "No."),
                )
            )
            body = self._pad(body, context, size)
        elif created >= _ISSUE_FORMS_SINCE:
            body = self._issue_form_body(kind, context, size)
        else:
            body = self._template_body(kind, context, size)
        # The web form of those years sent CRLF line ends, as the real samples show.
        return body.replace("\n", "\r\n") if created < _ISSUE_FORMS_SINCE and kind != "pr" else body

    def _pad(self, body: str, context: dict[str, Any], size: int) -> str:
        """Append logs until the body is about `size` characters long."""
        missing = size - len(body)
        if missing < 300:
            return body
        return f"{body}\n\n**Logs**\n\n```\n{self.text.log(context, missing)}\n```\n"

    def _prose(self, kind: str) -> tuple[str, ...]:
        return {"docs": _DOCS_TEXT, "build": _BUILD_TEXT}.get(kind, _BEHAVIOUR)

    def _issue_form_body(self, kind: str, context: dict[str, Any], size: int) -> str:
        rng, text = self.rng, self.text
        missing = "_No response_"
        issue_type = {"bug": "Bug", "performance": "Performance", "docs": "Documentation Bug"}.get(
            kind, "Build/Install"
        )
        behaviour = text.paragraphs(self._prose(kind), context, rng.randint(1, 3))
        if kind == "performance" and rng.random() < 0.6:
            behaviour += "\n\n" + text.table(context)
        sections = [
            ("Issue type", issue_type),
            ("Have you reproduced the bug with DeepFlow Nightly?", rng.choice(("Yes", "No"))),
            ("Source", rng.choice(("binary", "binary", "source"))),
            ("DeepFlow version", context["full_version"]),
            ("Custom code", rng.choice(("Yes", "No"))),
            ("OS platform and distribution", context["os"]),
            ("Mobile device", missing),
            ("Python version", context["python"]),
            ("Bazel version", context["bazel"] if kind == "build" else missing),
            ("GCC/compiler version", context["gcc"] if kind == "build" else missing),
            ("CUDA/cuDNN version", context["cuda"] if rng.random() < 0.6 else missing),
            ("GPU model and memory", context["gpu"] if rng.random() < 0.6 else missing),
            ("Current behavior?", behaviour),
            ("Standalone code to reproduce the issue", "```python\n" + text.code(context) + "\n```"),
        ]
        body = "\n\n".join(f"### {title}\n\n{value}" for title, value in sections)
        remaining = size - len(body) - 60
        log = f"```shell\n{text.log(context, remaining)}\n```" if remaining > 150 else missing
        return f"{body}\n\n### Relevant log output\n\n{log}\n"

    def _template_body(self, kind: str, context: dict[str, Any], size: int) -> str:
        rng, text = self.rng, self.text
        info = "\n".join(
            (
                "**System information**",
                "- Have I written custom code (as opposed to using a stock example script): "
                + rng.choice(("Yes", "No")),
                f"- OS Platform and Distribution: {context['os']}",
                f"- DeepFlow installed from (source or binary): {rng.choice(('binary', 'pip', 'source', 'conda'))}",
                f"- DeepFlow version (use command below): {context['full_version']}",
                f"- Python version: {context['python']}",
                f"- CUDA/cuDNN version: {context['cuda']}",
                f"- GPU model and memory: {context['gpu']}",
            )
        )
        parts = [
            info,
            "**Describe the current behavior**\n\n" + text.paragraphs(self._prose(kind), context, rng.randint(1, 3)),
            "**Describe the expected behavior**\n\n" + text.sentences(_EXPECTED, context, rng.randint(1, 2)),
            "**Standalone code to reproduce the issue**\n\n```python\n" + text.code(context) + "\n```",
        ]
        body = "\n\n".join(parts)
        remaining = size - len(body) - 40
        if remaining > 150:
            body += f"\n\n**Other info / logs**\n\n```\n{text.log(context, remaining)}\n```\n"
        return body

    def _free_form_body(self, kind: str, context: dict[str, Any], size: int) -> str:
        rng, text = self.rng, self.text
        pool = _SUPPORT_TEXT if kind == "support" else self._prose(kind)
        body = text.sentences(pool, context, rng.randint(1, 3))
        if size > len(body) + 400:
            body += "\n\n```python\n" + text.code(context) + "\n```"
        if size > len(body) + 600 and rng.random() < 0.5:
            body += "\n\n" + text.paragraphs(pool, context, 1)
        return self._pad(body, context, size)

    def _pull_request_body(self, context: dict[str, Any], size: int) -> str:
        rng, text = self.rng, self.text
        body = "\n\n".join(
            (
                _PR_OPENING.format_map(context) + " " + text.paragraphs(_PR_TEXT, context, rng.randint(1, 2)),
                f"Fixes #{context['other_number']}",
                "### Testing\n\n```shell\nbazel test --config=cuda "
                f"//deepflow/python/kernel_tests/{rng.choice(('math_ops', 'nn_ops', 'data', 'linalg'))}:all\n```",
            )
        )
        if size > 2_500 and rng.random() < 0.5:
            body += "\n\n" + text.table(context)
        return self._pad(body, context, size) if size > 4_000 else body

    def _comment_bodies(self, count: int, context: dict[str, Any], closed_by_bot: bool) -> list[tuple[str, str]]:
        """(role, body) of each comment, in order: triage, replies, and who closed it."""
        rng, text = self.rng, self.text
        roles = ["triage" if k == 0 or rng.random() < 0.35 else "reply" for k in range(count)]
        if closed_by_bot and count >= 2:
            roles[-2:] = ["bot", "bot"]
        elif count >= 2 and rng.random() < 0.5:
            roles[-1] = "close"
        bodies = []
        for k, role in enumerate(roles):
            if role == "bot":
                body = _COMMENT_TEXT["bot"][0 if k == count - 2 else 1]
            else:
                body = text.sentences(_COMMENT_TEXT[role], context, 1 if role != "reply" else rng.randint(1, 2))
                roll = rng.random()
                if role == "reply" and roll < 0.25:
                    body += "\n\n```python\n" + text.code(context) + "\n```"
                elif role == "reply" and roll < 0.35:
                    log = text.log(context, int(rng.lognormvariate(math.log(1_500), 1.0)))
                    body += f"\n\n<details><summary>Full log</summary>\n\n```\n{log}\n```\n\n</details>"
            bodies.append((role, body))
        return bodies

    def _comments(
        self, issue: dict[str, Any], context: dict[str, Any], created: int, updated: int, author: dict[str, Any]
    ) -> list[dict[str, Any]]:
        rng = self.rng
        count = int(rng.expovariate(1 / (self.comments_per_issue + 0.5)))  # floor(Exp(K + 0.5)) averages ~K
        count = min(count, max(30, int(4 * self.comments_per_issue)))
        closed_by_bot = issue["closed_by"] is self.bot
        times = sorted(rng.randint(created + 60, max(created + 61, updated)) for _ in range(count))
        comments = []
        for (role, body), posted in zip(self._comment_bodies(count, context, closed_by_bot), times, strict=True):
            if role == "bot":
                user, association = self.bot, "NONE"
            elif role in ("triage", "close"):
                user, association = rng.choice(self.maintainers), "MEMBER"
            elif rng.random() < 0.6:
                user, association = author, issue["author_association"]
            else:
                user = self._someone()
                association = self.association[user["login"]]
            # Comment ids grow with time, like GitHub's, and never repeat within a dump.
            self.last_comment_id = max(
                self.last_comment_id + rng.randint(1, 9), 150_000_000 + (posted - FIRST_CREATED) // 2
            )
            comment_id = self.last_comment_id
            url = f"{self.api_repo}/issues/comments/{comment_id}"
            edited = posted + rng.randint(30, 5 * DAY) if rng.random() < 0.1 else posted
            comments.append(
                {
                    "url": url,
                    "html_url": f"{issue['html_url']}#issuecomment-{comment_id}",
                    "issue_url": issue["url"],
                    "id": comment_id,
                    "node_id": _node_id("IssueComment", comment_id),
                    "user": user,
                    "created_at": _timestamp(posted),
                    "updated_at": _timestamp(min(edited, LAST_ACTIVITY)),
                    "author_association": association,
                    "body": body,
                    "reactions": _reactions(f"{url}/reactions", rng),
                    "performed_via_github_app": None,
                }
            )
        return comments

    def _labels_of(self, kind: str, context: dict[str, Any], closed: bool, stale: bool) -> list[dict[str, Any]]:
        rng = self.rng
        names: list[str] = []
        if kind == "pr":
            names += rng.sample(("awaiting review", "ready to pull", "size:S", "size:M"), rng.randint(0, 2))
            names.append(context["component"])
        else:
            names.append(_KINDS[kind][0])
            if rng.random() < 0.85:
                names.append(context["component"])
            if rng.random() < 0.12:
                names.append(rng.choice(tuple(_COMPONENT_DESCRIPTIONS)))
            if kind in _BUG_KINDS and rng.random() < 0.85:
                names.append(f"deepflow {context['version']}")
            if stale:
                names += ["stat:awaiting response", "stale"] + (["stalled"] if rng.random() < 0.5 else [])
            elif rng.random() < 0.35:
                names.append(
                    rng.choice(("stat:awaiting response", "stat:awaiting deepflower", "stat:contribution welcome"))
                )
            if kind in _BUG_KINDS and rng.random() < 0.08:
                names.append(rng.choice(("regression issue", "Fixed in Nightly", "good first issue", "duplicate")))
        unique = list(dict.fromkeys(names))[:6]
        return [self.labels[name] for name in unique] or [self.labels["type:bug"]]

    def issue(self, position: int, count: int, number: int, giant: bool) -> dict[str, Any]:
        rng = self.rng
        # One time slot per issue keeps creation times increasing with the number.
        created = FIRST_CREATED + int((position + rng.random()) * (LAST_CREATED - FIRST_CREATED) / count)
        if rng.random() < PULL_REQUEST_SHARE:
            kind = "pr"
        else:
            kind = rng.choices(tuple(_KINDS), weights=[share for *_, share in _KINDS.values()])[0]
        if rng.random() < (0.3 if kind == "pr" else 0.04):
            author, association = rng.choice(self.maintainers), "MEMBER"
        else:
            author = self._someone()
            association = self.association[author["login"]]
            if kind == "pr" and association == "NONE":
                association = "FIRST_TIME_CONTRIBUTOR"
        context = self._context(number, created, author, kind)

        closed = rng.random() < CLOSED_SHARE
        stale = closed and kind != "pr" and rng.random() < 0.18
        lifetime = int(rng.lognormvariate(math.log(12 * DAY), 1.6))
        closed_at = min(created + 600 + lifetime, LAST_ACTIVITY) if closed else None
        last_touch = (closed_at or created) + (int(rng.expovariate(1 / (3 * DAY))) if rng.random() < 0.6 else 0)
        updated = min(max(last_touch, created + rng.randint(0, 40 * DAY)), LAST_ACTIVITY)
        if closed_at is not None:
            updated = max(updated, closed_at)

        assignees: list[dict[str, Any]] = []
        if rng.random() < 0.45:
            assignees = rng.sample(self.maintainers, 1 if rng.random() < 0.85 else 2)
        if not closed:
            closed_by, state_reason = None, ("reopened" if rng.random() < 0.03 else None)
        elif stale:
            closed_by, state_reason = self.bot, "not_planned"
        else:
            closed_by = author if rng.random() < 0.3 else (assignees[0] if assignees else rng.choice(self.maintainers))
            state_reason = "completed" if rng.random() < 0.8 else "not_planned"
        locked = closed and rng.random() < 0.03

        issue_id = max(self.last_issue_id + 1, _issue_id_at(created) + rng.randrange(500))
        self.last_issue_id = issue_id
        url = f"{self.api_repo}/issues/{number}"
        web_kind = "pull" if kind == "pr" else "issues"
        obj: dict[str, Any] = {
            "url": url,
            "repository_url": self.api_repo,
            "labels_url": f"{url}/labels{{/name}}",
            "comments_url": f"{url}/comments",
            "events_url": f"{url}/events",
            "html_url": f"{self.web_repo}/{web_kind}/{number}",
            "id": issue_id,
            "node_id": _node_id("PullRequest" if kind == "pr" else "Issue", issue_id),
            "number": number,
            "title": self._title(kind, context),
            "user": author,
            "labels": self._labels_of(kind, context, closed, stale),
            "state": "closed" if closed else "open",
            "locked": locked,
            "assignee": assignees[0] if assignees else None,
            "assignees": assignees,
            "milestone": self._milestone(created) if rng.random() < 0.05 else None,
            "comments": min(30, int(rng.lognormvariate(math.log(3.5), 0.9))) if rng.random() < 0.9 else 0,
            "created_at": _timestamp(created),
            "updated_at": _timestamp(updated),
            "closed_at": _timestamp(closed_at) if closed_at is not None else None,
            "author_association": association,
            "active_lock_reason": rng.choice(("resolved", "resolved", "too heated", "off-topic")) if locked else None,
        }
        if kind == "pr":
            merged = closed and rng.random() < 0.6
            obj["draft"] = not closed and rng.random() < 0.15
            obj["pull_request"] = {
                "url": f"{self.api_repo}/pulls/{number}",
                "html_url": obj["html_url"],
                "diff_url": f"{obj['html_url']}.diff",
                "patch_url": f"{obj['html_url']}.patch",
                "merged_at": obj["closed_at"] if merged else None,
            }
            state_reason = None
        obj["body"] = (
            None if rng.random() < NULL_BODY_SHARE else self._body(kind, context, self._body_size(giant), created)
        )
        obj["closed_by"] = closed_by
        obj["reactions"] = _reactions(f"{url}/reactions", rng)
        obj["timeline_url"] = f"{url}/timeline"
        obj["performed_via_github_app"] = None
        obj["state_reason"] = state_reason
        if self.comments_per_issue > 0:
            obj["comment_data"] = self._comments(obj, context, created, updated, author)
            obj["comments"] = len(obj["comment_data"])
            if obj["comment_data"]:  # the issue was updated by its last comment at the latest
                obj["updated_at"] = max(obj["updated_at"], obj["comment_data"][-1]["created_at"])
        return obj

    def _milestone(self, created: int) -> dict[str, Any]:
        upcoming = [m for m in self.milestones if m["due_on"] >= _timestamp(created)]
        return upcoming[0] if upcoming else self.milestones[-1]


def _issue_id_at(seconds: int) -> int:
    """GitHub's issue ids grow faster every year: about 1.3e8 in 2016, 3.5e9 by 2026."""
    progress = (seconds - FIRST_CREATED) / (LAST_CREATED - FIRST_CREATED)
    return int(130_000_000 + 3_400_000_000 * progress**1.7)


def synthetic_issues(
    count: int, *, repo: str = DEFAULT_REPO, comments: float = 0.0, seed: int = 0
) -> Iterator[dict[str, Any]]:
    """`count` GitHub REST issue objects in increasing number order (streamed; nested user and label
    objects are shared between issues, so treat them as read-only).

    With `comments` > 0 each issue carries `comment_data`, about `comments` REST comment objects on average.
    """
    synthesizer = _Synthesizer(repo, comments, seed)
    rng = synthesizer.rng
    number = rng.randint(1, 40)
    giant_at = -1
    for position in range(count):
        if position % GIANT_EVERY == 0:
            # Exactly one giant body per block keeps the average size steady from run to run.
            giant_at = position + rng.randrange(GIANT_EVERY)
        yield synthesizer.issue(position, count, number, position == giant_at)
        number += 1 + (int(rng.expovariate(1.5)) if rng.random() < 0.3 else 0)
