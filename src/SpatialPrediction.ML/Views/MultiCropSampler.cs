namespace SpatialPrediction.ML.Views;

/// <summary>One family of crops of a host's views: how many, how large a part of the image, at what resolution.</summary>
/// <param name="Count">Crops of this family per image.</param>
/// <param name="Crops">Box sampler.</param>
/// <param name="Resolution">Side in pixels each crop is resized to.</param>
internal sealed record CropFamily(int Count, RandomResizedCropSampler Crops, int Resolution);

/// <summary>
/// Makes augmented crops of a batch: for each family, <see cref="CropFamily.Count"/> views, each with its own boxes,
/// horizontal flips and photometric augmentation. SimCLR, MoCo v3 and BYOL use one family of two crops; DINO uses
/// two global crops and several small local ones.
/// </summary>
internal sealed record MultiCropSampler(IReadOnlyList<CropFamily> Families, PhotometricAugmentation Augmentation, float FlipProbability = 0.5f)
{
    /// <summary>One backbone call per family, its views concatenated, with gradients: how the hosts forward them.</summary>
    public IEnumerable<Backbones.BackbonePass> Passes(int batch) => Families.Select(f => new Backbones.BackbonePass(f.Count * batch, f.Resolution, Backward: true));

    /// <summary>All views of the batch, family by family, on <paramref name="device"/>, with where each was cut.</summary>
    public ViewSet Make(PictureBatch pictures, Random random, TorchSharp.torch.Device device)
    {
        int batch = pictures.Count;
        var views = new List<TorchSharp.torch.Tensor>();
        var geometry = new List<ViewGeometry>();
        foreach (var family in Families)
        {
            for (int v = 0; v < family.Count; v++)
            {
                var boxes = new ViewBox[batch];
                var flips = new bool[batch];
                for (int i = 0; i < batch; i++)
                {
                    boxes[i] = family.Crops.Sample(random, pictures.Width(i), pictures.Height(i));
                    flips[i] = random.NextSingle() < FlipProbability;
                }
                using var crops = ViewCropper.Crop(pictures, boxes, flips, family.Resolution, device: device);
                views.Add(Augmentation.Apply(crops, random));
                geometry.Add(new ViewGeometry(boxes, flips));
            }
        }
        return new ViewSet(views, geometry: geometry);
    }
}
