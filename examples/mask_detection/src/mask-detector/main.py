"""mask-detector: find faces with and without a mask (RFB-640 masked-face model, ONNX Runtime).

Input: an anonymised photo. Output: <photo>.masks.json with every detection and its class,
and a copy of the photo with boxes drawn (green: masked, red: unmasked). Run it alone:

    python main.py PHOTO OUTPUT_DIR
"""

import json
import sys
from pathlib import Path

import numpy as np
import onnxruntime as ort
from aisprint.annotations import component_name, exec_time
from PIL import Image, ImageDraw

MODEL = Path(__file__).parent / "onnx" / "RFB-640-masked_face-v2.onnx"
CLASSES = {1: "face", 2: "masked_face"}  # 0 is the background
INPUT_SIZE = (640, 480)
THRESHOLD = 0.6
IOU_LIMIT = 0.3

_session = None


def session():
    global _session
    if _session is None:
        options = ort.SessionOptions()
        options.log_severity_level = 3
        _session = ort.InferenceSession(str(MODEL), options, providers=["CPUExecutionProvider"])
    return _session


def suppress(boxes, scores):
    """Greedy non-maximum suppression: indices of the boxes to keep."""
    kept, order = [], list(np.argsort(-scores))
    while order:
        best = order.pop(0)
        kept.append(best)
        bx = boxes[best]
        survivors = []
        for other in order:
            ox = boxes[other]
            w = max(0.0, min(bx[2], ox[2]) - max(bx[0], ox[0]))
            h = max(0.0, min(bx[3], ox[3]) - max(bx[1], ox[1]))
            union = ((bx[2] - bx[0]) * (bx[3] - bx[1]) + (ox[2] - ox[0]) * (ox[3] - ox[1])
                     - w * h)
            if w * h / (union + 1e-9) <= IOU_LIMIT:
                survivors.append(other)
        order = survivors
    return kept


def detect(image):
    rgb = image.convert("RGB")
    pixels = np.asarray(rgb.resize(INPUT_SIZE), dtype=np.float32)
    tensor = ((pixels - 127.0) / 128.0).transpose(2, 0, 1)[np.newaxis]
    scores, boxes = session().run(None, {session().get_inputs()[0].name: tensor})
    scale = np.array([rgb.width, rgb.height, rgb.width, rgb.height])
    detections = []
    for class_id, label in CLASSES.items():
        confidence = scores[0, :, class_id]
        chosen = confidence > THRESHOLD
        found, conf = boxes[0][chosen], confidence[chosen]
        for i in suppress(found, conf):
            box = [int(v) for v in np.clip(found[i] * scale, 0, None)]
            detections.append({"label": label, "confidence": round(float(conf[i]), 4),
                               "box": box})
    return detections


@component_name(name="mask-detector")
@exec_time(local_time_thr=10, global_time_thr=30, prev_components=["blurry-faces-onnx"])
def main(args):
    source = Path(args["input"])
    if source.suffix.lower() not in (".jpg", ".jpeg", ".png"):
        return None  # blurry-faces-onnx also sends its face count report: not ours to read
    output = Path(args["output"])
    output.mkdir(parents=True, exist_ok=True)
    image = Image.open(source).convert("RGB")
    detections = detect(image)
    drawing = ImageDraw.Draw(image)
    for d in detections:
        drawing.rectangle(d["box"], outline="green" if d["label"] == "masked_face" else "red",
                          width=3)
    image.save(output / (source.stem + ".jpg"), quality=90)
    report = {
        "image": source.name,
        "masked_faces": sum(d["label"] == "masked_face" for d in detections),
        "unmasked_faces": sum(d["label"] == "face" for d in detections),
        "detections": detections,
    }
    target = output / (source.stem + ".masks.json")
    target.write_text(json.dumps(report, indent=2) + "\n")
    return str(target)


if __name__ == "__main__":
    print(main({"input": sys.argv[1], "output": sys.argv[2]}))
