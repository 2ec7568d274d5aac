using Microsoft.ML;
using SpatialPrediction.ML.Evaluation;

namespace SpatialPrediction.ML.Tests.Evaluation;

public class ProbeTests
{
    /// <summary>Three well-separated clusters in 4 dimensions, with a little noise.</summary>
    private static (List<float[]> Features, List<int> Labels) Clusters(int perClass, int seed)
    {
        var random = new Random(seed);
        var features = new List<float[]>();
        var labels = new List<int>();
        for (int c = 0; c < 3; c++)
        for (int i = 0; i < perClass; i++)
        {
            var v = new float[4];
            v[c] = 5f;
            for (int d = 0; d < 4; d++) v[d] += (float)(random.NextDouble() - 0.5);
            features.Add(v);
            labels.Add(c);
        }
        return (features, labels);
    }

    [Test]
    public void Linear_probe_separates_separable_clusters()
    {
        var (train, trainLabels) = Clusters(20, 1);
        var (test, testLabels) = Clusters(10, 2);

        var metrics = SpatialEvaluation.LinearProbe(new MLContext(1), train, trainLabels, test, testLabels);

        metrics.MicroAccuracy.Should().Be(1.0);
    }

    [Test]
    public void Standardized_probe_separates_separable_clusters_and_reports_every_penalty_it_tried()
    {
        var (train, trainLabels) = Clusters(20, 1);
        var (test, testLabels) = Clusters(10, 2);

        var probe = StandardizedLinearProbe.Fit(new MLContext(1), train, trainLabels);

        probe.Evaluate(test, testLabels).MicroAccuracy.Should().Be(1.0);
        probe.CrossValidation.Select(s => s.Penalty).Should().Equal(StandardizedLinearProbe.DefaultPenalties);
        probe.CrossValidation.Should().OnlyContain(s => s.Accuracy > 0.9);
        StandardizedLinearProbe.DefaultPenalties.Should().Contain(probe.Penalty);
    }

    [Test]
    public void Standardized_probe_finds_class_information_in_a_dimension_of_tiny_scale()
    {
        // Class information only in dimension 0, scaled down a million-fold; z-scoring restores it.
        var random = new Random(3);
        var features = new List<float[]>();
        var labels = new List<int>();
        for (int i = 0; i < 60; i++)
        {
            int label = i % 2;
            features.Add(new[] { (label * 2 - 1 + (float)(random.NextDouble() - 0.5)) * 1e-6f, (float)random.NextDouble() });
            labels.Add(label);
        }

        var probe = StandardizedLinearProbe.Fit(new MLContext(1), features, labels);

        probe.Evaluate(features, labels).MicroAccuracy.Should().BeGreaterThan(0.95);
    }

    [Test]
    public void Standardized_probe_rejects_too_many_folds_and_an_empty_penalty_list()
    {
        var (train, trainLabels) = Clusters(2, 1);

        FluentActions.Invoking(() => StandardizedLinearProbe.Fit(new MLContext(1), train, trainLabels, folds: 100))
            .Should().Throw<ArgumentOutOfRangeException>().WithMessage("*folds*between 2 and*6*");
        FluentActions.Invoking(() => StandardizedLinearProbe.Fit(new MLContext(1), train, trainLabels, penalties: Array.Empty<float>()))
            .Should().Throw<ArgumentException>().WithMessage("*penalties*");
    }

    [Test]
    public void Knn_probe_finds_the_cluster_and_top5_is_at_least_top1()
    {
        var (train, trainLabels) = Clusters(20, 1);
        var (test, testLabels) = Clusters(10, 2);

        var result = SpatialEvaluation.KnnProbe(train, trainLabels, test, testLabels, k: 5);

        result.Top1.Should().Be(1.0);
        result.Top5.Should().BeGreaterThanOrEqualTo(result.Top1);
    }

    [Test]
    public void Knn_vote_weights_follow_similarity()
    {
        // One training vector of class 1 right on the query outweighs two of class 0 at 90 degrees.
        var train = new List<float[]> { new[] { 1f, 0f }, new[] { 0f, 1f }, new[] { 0f, 1f } };
        var result = SpatialEvaluation.KnnProbe(train, new[] { 1, 0, 0 }, new List<float[]> { new[] { 1f, 0f } }, new[] { 1 }, k: 3);

        result.Top1.Should().Be(1.0);
    }

    [Test]
    public void Mismatched_inputs_are_rejected_with_what_is_wrong()
    {
        var (train, labels) = Clusters(3, 1);
        var ragged = train.Select((f, i) => i == 4 ? f.Take(3).ToArray() : f).ToList();

        FluentActions.Invoking(() => SpatialEvaluation.KnnProbe(train, labels.Take(5).ToList(), train, labels))
            .Should().Throw<ArgumentException>().WithMessage("*9 feature vectors but 5 labels*");
        FluentActions.Invoking(() => SpatialEvaluation.LinearProbe(new MLContext(1), ragged, labels, train, labels))
            .Should().Throw<ArgumentException>().WithMessage("*vector 4 has 3 values*vector 0 has 4*");
        FluentActions.Invoking(() => SpatialEvaluation.KnnProbe(train, labels, train.Select(f => f.Take(2).ToArray()).ToList(), labels))
            .Should().Throw<ArgumentException>().WithMessage("*training vectors have 4 values, test vectors 2*");
    }

    [Test]
    public void Linear_probe_behind_a_featurizer_names_a_missing_label_column()
    {
        var mlContext = new MLContext(1);
        var data = TestScenes.DataView(mlContext, 4);
        using var backbone = SpatialBackbone.CreateUntrained(new SpatialPrediction.ML.Backbones.BackboneSpec(SpatialPrediction.ML.Backbones.BackboneKind.SmallResNet, Width: 4, ImageSize: 32));
        var featurizer = mlContext.Transforms.SpatialFeaturize(backbone).Fit(data);

        FluentActions.Invoking(() => SpatialEvaluation.LinearProbe(mlContext, featurizer, data, data, labelColumn: "Class"))
            .Should().Throw<ArgumentException>().WithMessage("*no label column 'Class'*'Image'*'Label'*");
    }
}
