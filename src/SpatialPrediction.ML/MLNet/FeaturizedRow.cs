using Microsoft.ML;
using Microsoft.ML.Data;

namespace SpatialPrediction.ML.MLNet;

/// <summary>
/// A row of a featurised view: every input column passes through unchanged; the feature column is computed from the
/// image column on first request for each row and kept until the row changes. The input row stays its owner's to dispose.
/// </summary>
internal sealed class FeaturizedRow : DataViewRow
{
    private readonly SpatialFeaturizerTransformer featurizer;
    private readonly DataViewRow input;
    private readonly DataViewSchema schema;
    private readonly int featureColumnIndex;
    private readonly bool featuresActive;
    private readonly ValueGetter<MLImage>? imageGetter;
    private readonly float[] features;
    private long featuresPosition = -1;
    private MLImage image = null!;

    public FeaturizedRow(SpatialFeaturizerTransformer featurizer, DataViewSchema schema, DataViewRow input, bool featuresActive)
    {
        this.featurizer = featurizer;
        this.input = input;
        this.schema = schema;
        this.featuresActive = featuresActive;
        featureColumnIndex = schema.Count - 1;
        features = new float[featurizer.FeatureDimension];
        if (featuresActive)
            imageGetter = input.GetGetter<MLImage>(input.Schema[featurizer.InputColumnName]);
    }

    public override DataViewSchema Schema => schema;
    public override long Position => input.Position;
    public override long Batch => input.Batch;
    public override ValueGetter<DataViewRowId> GetIdGetter() => input.GetIdGetter();

    public override bool IsColumnActive(DataViewSchema.Column column)
        => column.Index == featureColumnIndex ? featuresActive : input.IsColumnActive(input.Schema[column.Index]);

    public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column)
    {
        if (column.Index != featureColumnIndex) return input.GetGetter<TValue>(input.Schema[column.Index]);
        if (!featuresActive)
            throw new InvalidOperationException($"Column '{column.Name}' was not requested when this cursor was created.");
        if (typeof(TValue) != typeof(VBuffer<float>))
            throw new InvalidOperationException(
                $"Column '{column.Name}' holds VBuffer<float> (vector of {featurizer.FeatureDimension} floats); a getter of {typeof(TValue).Name} was requested.");
        ValueGetter<VBuffer<float>> getter = GetFeatures;
        return (ValueGetter<TValue>)(Delegate)getter;
    }

    private void GetFeatures(ref VBuffer<float> destination)
    {
        if (featuresPosition != input.Position)
        {
            imageGetter!(ref image);
            featurizer.FeaturizeInto(image, input.Position, features);
            featuresPosition = input.Position;
        }
        var editor = VBufferEditor.Create(ref destination, features.Length);
        features.AsSpan().CopyTo(editor.Values);
        destination = editor.Commit();
    }
}
