"""blurry-faces-onnx: detect faces with the RFB-640 detector (ONNX Runtime) and blur them.

Input: a photo. Output: the same photo with every detected face blurred, so that only
anonymised images leave the edge. Run it alone:

    python main.py PHOTO OUTPUT_DIR
"""

import json
import sys
from pathlib import Path

import numpy as np
import onnxruntime as ort
from aisprint.annotations import annotation
from PIL import Image, ImageFilter

MODEL = Path(__file__).parent / "onnx" / "version-RFB-640.onnx"
INPUT_SIZE = (640, 480)  # width, height the detector expects
THRESHOLD = 0.7
IOU_LIMIT = 0.3

_session = None


def session():
    global _session
    if _session is None:
        options = ort.SessionOptions()
        options.log_severity_level = 3  # the model keeps initializers as inputs: ORT warns
        _session = ort.InferenceSession(str(MODEL), options, providers=["CPUExecutionProvider"])
    return _session


def to_tensor(image):
    pixels = np.asarray(image.convert("RGB").resize(INPUT_SIZE), dtype=np.float32)
    return ((pixels - 127.0) / 128.0).transpose(2, 0, 1)[np.newaxis]


def non_max_suppression(boxes, scores, iou_limit):
    keep = []
    order = np.argsort(-scores)
    while order.size:
        best, rest = order[0], order[1:]
        keep.append(best)
        x1 = np.maximum(boxes[best, 0], boxes[rest, 0])
        y1 = np.maximum(boxes[best, 1], boxes[rest, 1])
        x2 = np.minimum(boxes[best, 2], boxes[rest, 2])
        y2 = np.minimum(boxes[best, 3], boxes[rest, 3])
        overlap = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
        area = lambda b: (b[..., 2] - b[..., 0]) * (b[..., 3] - b[..., 1])  # noqa: E731
        iou = overlap / (area(boxes[best]) + area(boxes[rest]) - overlap + 1e-9)
        order = rest[iou <= iou_limit]
    return keep


def detect_faces(image):
    """Face boxes in pixels, (x1, y1, x2, y2), with their confidence."""
    scores, boxes = session().run(None, {session().get_inputs()[0].name: to_tensor(image)})
    confidence = scores[0, :, 1]
    chosen = confidence > THRESHOLD
    found, confidence = boxes[0][chosen], confidence[chosen]
    keep = non_max_suppression(found, confidence, IOU_LIMIT)
    scale = np.array([image.width, image.height, image.width, image.height])
    return [(tuple(int(v) for v in np.clip(found[i] * scale, 0, None)), float(confidence[i]))
            for i in keep]


def blur(image, faces):
    out = image.convert("RGB")
    for (x1, y1, x2, y2), _ in faces:
        if x2 > x1 and y2 > y1:
            region = out.crop((x1, y1, x2, y2))
            radius = max(4, (x2 - x1) // 6)
            out.paste(region.filter(ImageFilter.GaussianBlur(radius)), (x1, y1))
    return out


@annotation({"component_name": {"name": "blurry-faces-onnx"},
             "exec_time": {"local_time_thr": 20},
             "expected_throughput": {"rate": 1},
             "partitionable_model": {"onnx_file": "version-RFB-640.onnx"}})
def main(args):
    source = Path(args["input"])
    output = Path(args["output"])
    output.mkdir(parents=True, exist_ok=True)
    image = Image.open(source)
    faces = detect_faces(image)
    target = output / (source.stem + ".jpg")
    blur(image, faces).save(target, quality=90)
    (output / (source.stem + ".faces.json")).write_text(
        json.dumps({"image": source.name, "faces": len(faces)}) + "\n")
    return str(target)


if __name__ == "__main__":
    print(main({"input": sys.argv[1], "output": sys.argv[2]}))
