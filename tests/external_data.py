r"""ONNX files whose weights hide in external data files, as attacks build them.

onnx's own tensor iterator skips sparse tensors:
these helpers put weights where it does not look,
as onnxruntime still loads them.

"""

import os

import numpy as np
import onnx
import onnx.helper
import onnx.numpy_helper


def external_tensor(array: np.ndarray, name: str, folder: str, location: str):
    r"""A tensor whose values are written to ``folder/location``."""
    tensor = onnx.numpy_helper.from_array(array, name)
    with open(os.path.join(folder, location), "wb") as fp:
        fp.write(tensor.raw_data)
    size = len(tensor.raw_data)
    tensor.ClearField("raw_data")
    tensor.data_location = onnx.TensorProto.EXTERNAL
    for key, value in (("location", location), ("offset", "0"), ("length", size)):
        entry = tensor.external_data.add()
        entry.key, entry.value = key, str(value)
    return tensor


def sparse_external_initializer(path: str, name: str, location: str = "w.bin"):
    r"""Move initializer ``name`` of an ONNX file into a sparse initializer.

    Its non-zero values go to ``location`` beside the file,
    its indices stay in the file.

    """
    proto = onnx.load(path)
    graph = proto.graph
    dense = next(tensor for tensor in graph.initializer if tensor.name == name)
    graph.initializer.remove(dense)
    array = onnx.numpy_helper.to_array(dense)
    flat = array.reshape(-1)
    indices = np.flatnonzero(flat).astype(np.int64)
    values = external_tensor(flat[indices], name, os.path.dirname(path), location)
    graph.sparse_initializer.append(
        onnx.helper.make_sparse_tensor(
            values,
            onnx.numpy_helper.from_array(indices, f"{name}_indices"),
            list(array.shape),
        )
    )
    with open(path, "wb") as fp:  # onnx.save would check the external file
        fp.write(proto.SerializeToString())
