// The items under review: each image with its reference captions, the captions generated per
// style, the caption that will be exported, and its review status.
#pragma once

#include <QAbstractTableModel>
#include <QHash>
#include <QJsonObject>
#include <QMap>
#include <QStringList>
#include <QVector>

namespace esper::ui {

enum class ReviewStatus { Unreviewed, Accepted, Edited, Rejected };
QString statusName(ReviewStatus s);
ReviewStatus statusFromName(const QString& name);

struct ReviewItem {
    QString imagePath;
    QStringList references;
    QMap<QString, QString> generated; // style -> caption
    QMap<QString, double> scores;     // style -> CLIP-S
    QString caption;                  // what export writes
    double clipS = -1;                // of `caption`, when known
    double refClipS = -1;             // of `caption` against the references, when known
    ReviewStatus status = ReviewStatus::Unreviewed;
    QString error; // e.g. the image could not be read
    // Who wrote `caption`: "human" once a person wrote or edited it, else the model and style
    // that generated it ("ESPER Studio demo · caption"); empty when it came from a dataset.
    QString source;
    // Per candidate (keys as in `generated`): the bundle, style, prompt and decoding that made
    // it (caption_origin.h); absent for captions that came from a dataset.
    QMap<QString, QJsonObject> origins;

    // The candidate that is the item's caption now, or empty when a person wrote it (or it came
    // from a dataset): derived, so undo and edits never leave it stale.
    QString activeCandidate() const;
    // The active caption first, then every other distinct candidate: what "all candidates"
    // exports write.
    QStringList allCaptions() const;

    QJsonObject toJson() const;
    static ReviewItem fromJson(const QJsonObject& o);
};

class ReviewModel final : public QAbstractTableModel {
    Q_OBJECT

public:
    enum Column {
        ImageColumn,
        StatusColumn,
        CaptionColumn,
        ScoreColumn,
        RefScoreColumn,
        GeneratedColumn,
        ReferenceColumn,
        FlagsColumn,
        ColumnCount
    };
    enum Roles { SortRole = Qt::UserRole + 1, StatusRole, PathRole, FlaggedRole };

    explicit ReviewModel(QObject* parent = nullptr);
    // `index` (image path -> row, from buildIndex) may be made beforehand off the UI thread:
    // for 100,000 items it is most of the time a reset takes.
    void setItems(QVector<ReviewItem> items, QHash<QString, int> index = {});
    static QHash<QString, int> buildIndex(const QVector<ReviewItem>& items);
    const QVector<ReviewItem>& items() const { return items_; }
    const ReviewItem& item(int row) const { return items_[row]; }
    int rowOf(const QString& imagePath) const;
    // Adds the image or updates its generated caption for `style`; an unreviewed item's caption
    // follows the first style it was given. Returns the row.
    int addGenerated(const QString& imagePath, const QString& style, const QString& caption,
                     double clipS, const QString& model = {}, const QJsonObject& origin = {});
    // The raw setters the undo commands use.
    void setStatus(int row, ReviewStatus status);
    // A person's caption: its source becomes "human" (`source` restores another on undo).
    void setCaption(int row, const QString& caption, const QString& source = "human");
    void setScores(int row, double clipS, double refClipS);
    // The quality checks' flags and reasons per item (core/quality), computed off the UI
    // thread by the view; ignored when the items changed in number meanwhile.
    void setQuality(const QVector<QStringList>& flags, const QVector<QStringList>& reasons);
    bool flagged(int row) const { return row < flags_.size() && !flags_[row].isEmpty(); }

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role) const override;
    QVariant headerData(int section, Qt::Orientation o, int role) const override;
    Qt::ItemFlags flags(const QModelIndex& index) const override;
    // Edits from a view become a request; the view turns it into an undoable command.
    bool setData(const QModelIndex& index, const QVariant& value, int role) override;

signals:
    void editRequested(int row, const QString& caption);
    void modified(); // any change that the project file should save

private:
    QVector<ReviewItem> items_;
    QVector<QStringList> flags_, reasons_;
    QHash<QString, int> rowOf_; // image path -> row
    class ThumbnailCache* thumbs_;
};

} // namespace esper::ui
