// Decoding settings in a collapsible box: greedy or sampling, and the knobs that go with them.
#pragma once

#include "engine/engine_types.h"

#include <QGroupBox>

class QCheckBox;
class QComboBox;
class QDoubleSpinBox;
class QSpinBox;

namespace esper::ui {

class DecodingPanel final : public QGroupBox {
    Q_OBJECT

public:
    explicit DecodingPanel(QWidget* parent = nullptr);
    DecodingSettings settings() const;
    void setSettings(const DecodingSettings& s);

signals:
    void changed();

private:
    void updateEnabled();
    QComboBox* strategy_;
    QSpinBox *maxTokens_, *topK_, *noRepeat_, *bestOf_;
    QDoubleSpinBox *temperature_, *topP_;
    QCheckBox* cut_;
    QWidget* body_;
};

} // namespace esper::ui
